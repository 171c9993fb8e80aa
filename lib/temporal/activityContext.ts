import { Context } from '@temporalio/activity';

/** The Temporal activity context, or undefined when an activity function is called directly (tests, CLI). */
export function currentActivityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}
