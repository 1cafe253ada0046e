import type { AckStep, BenchResult, FanoutStep } from './result.ts';

/**
 * `ordered`: whether the system promises an order. The baselines number messages per node,
 * not per session, so their numbers interleave across their two nodes and say nothing about order.
 */
function fanoutStepFaults(where: string, step: FanoutStep | NonNullable<FanoutStep['firstAttempt']>, ordered: boolean): string[] {
  const faults: string[] = [];
  if (step.lost > 0) faults.push(`${where}: ${step.lost} of ${step.expectedDeliveries} deliveries lost`);
  if (ordered && step.outOfOrder > 0) faults.push(`${where}: ${step.outOfOrder} deliveries out of order`);
  if (step.acked < step.sent) faults.push(`${where}: ${step.sent - step.acked} of ${step.sent} sends unacknowledged`);
  return faults;
}

function ackStepFaults(where: string, step: AckStep | NonNullable<AckStep['firstAttempt']>): string[] {
  return step.acked < step.sent ? [`${where}: ${step.sent - step.acked} of ${step.sent} sends unacknowledged`] : [];
}

/**
 * Every message the run lost, reordered, doubled or left unacknowledged, every idle connection that
 * failed and every failed request, in any scenario, including the first try of a step that was
 * repeated. A search for the highest rate ends at such a fault; a smoke run at low rates must have none.
 */
export function findDeliveryFaults(result: Pick<BenchResult, 'scenarios'>): string[] {
  const faults: string[] = [];
  const { idle, fanout, ack, persist, history, steady } = result.scenarios;
  if (idle) {
    if (idle.failed > 0) faults.push(`idle: ${idle.failed} connections failed (${JSON.stringify(idle.failures)})`);
    if (idle.opened < idle.requested) faults.push(`idle: ${idle.opened} of ${idle.requested} connections opened`);
  }
  for (const series of fanout ? [fanout.chat, fanout.chatPersisted, fanout.socketio, fanout.relay] : []) {
    series.steps.forEach((step, i) => {
      const where = `fanout ${series.system} step ${i} (${step.sendsPerSec} sends/s)`;
      const ordered = series.system.startsWith('chat');
      faults.push(...fanoutStepFaults(where, step, ordered));
      if (step.firstAttempt) faults.push(...fanoutStepFaults(`${where}, first try`, step.firstAttempt, ordered));
    });
  }
  if (ack) {
    faults.push(...ackStepFaults(`ack reference (${ack.reference.sendsPerSec} sends/s)`, ack.reference));
    for (const step of ack.steps) {
      const where = `ack step ${step.sendsPerSec} sends/s`;
      faults.push(...ackStepFaults(where, step));
      if (step.firstAttempt) faults.push(...ackStepFaults(`${where}, first try`, step.firstAttempt));
    }
  }
  if (persist) {
    if (persist.rowsWritten !== persist.backlog) faults.push(`persist: ${persist.rowsWritten} rows written for a backlog of ${persist.backlog}`);
    if (persist.liveMessages !== persist.livePublished) faults.push(`persist: ${persist.liveMessages} of ${persist.livePublished} live messages written`);
  }
  for (const run of steady ? [...steady.runs, ...steady.durability] : []) {
    const where = `steady ${run.target}${run.durability ? ` R${run.durability.jetstreamReplicas}/${run.durability.synchronousCommit}` : ''}`;
    faults.push(...fanoutStepFaults(where, run.step, run.target.startsWith('chat')));
    if (run.persistedAll === false) faults.push(`${where}: the persister did not write every message within its deadline`);
  }
  if (history) {
    const failed = Object.entries(history.errors);
    if (failed.length > 0) faults.push(`history: failed requests ${JSON.stringify(history.errors)}`);
  }
  return faults;
}
