import { AssignerProtocol } from 'kafkajs';
import type { PartitionAssigner } from 'kafkajs';
import type { ConsumerSlot } from './leaseSummary';

/** Whether consumer `slot` owns `partition` under the static split p mod count = index (no slot: every one). */
export function ownsPartition(slot: ConsumerSlot | undefined, partition: number): boolean {
  return !slot || partition % slot.count === slot.index;
}

/** The partitions of `all` that `slot` owns, ascending. */
export function ownedPartitions(slot: ConsumerSlot | undefined, all: number[]): number[] {
  return all.filter((p) => ownsPartition(slot, p)).sort((a, b) => a - b);
}

/** A clear one-line error for a slot the workflow could never have meant. */
export function checkSlot(slot: ConsumerSlot | undefined): void {
  if (!slot) return;
  const { index, count } = slot;
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(index) || index < 0 || index >= count) {
    throw new Error(`consumer slot ${index} of ${count} is not a valid slot (0 <= index < count)`);
  }
}

/**
 * The Kafka consumer group a slot's lease joins. kafkajs 2.2.4 has no manual `assign`, only `subscribe`, so
 * each slot gets a group of its own in which `sliceAssigner` hands out only that slot's partitions. The
 * group name carries the count, so a lease of the old split and one of the new never share a group while a
 * scale change is in flight. Kafka group offsets are never committed: these groups hold no state.
 */
export function sliceGroupId(baseGroup: string, slot: ConsumerSlot | undefined): string {
  return slot ? `${baseGroup}.slice-${slot.index}-of-${slot.count}` : baseGroup;
}

/**
 * A kafkajs partition assigner that gives the members of a slot's group only the slot's partitions, spread
 * round-robin over the members (normally one; two while a retried lease overlaps a zombie attempt, which the
 * MySQL offset compare-and-set fences).
 */
export function sliceAssigner(slot: ConsumerSlot): PartitionAssigner {
  return ({ cluster }) => ({
    name: `TrackflowSlice${slot.index}of${slot.count}`,
    version: 0,
    async assign({ members, topics }) {
      const ids = members.map((m) => m.memberId).sort();
      const plan = new Map<string, Record<string, number[]>>(ids.map((id) => [id, {}]));
      for (const topic of topics) {
        const partitions = ownedPartitions(slot, cluster.findTopicPartitionMetadata(topic).map((m) => m.partitionId));
        partitions.forEach((p, i) => {
          const a = plan.get(ids[i % ids.length] as string) as Record<string, number[]>;
          (a[topic] ??= []).push(p);
        });
      }
      return ids.map((memberId) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 0, assignment: plan.get(memberId) ?? {}, userData: Buffer.alloc(0) }),
      }));
    },
    protocol({ topics }) {
      return {
        name: `TrackflowSlice${slot.index}of${slot.count}`,
        metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }),
      };
    },
  });
}
