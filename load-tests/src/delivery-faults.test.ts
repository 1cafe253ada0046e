import { describe, expect, it } from '@jest/globals';
import { findDeliveryFaults } from './delivery-faults.ts';
import { benchResultFixture } from './testing/result-fixture.ts';

// The smoke run asserts findDeliveryFaults(result) is empty; these show that check fails on each fault.
describe('the delivery faults of a run', () => {
  it('are none in a run that lost, reordered and left unacknowledged nothing', () => {
    expect(findDeliveryFaults(benchResultFixture())).toEqual([]);
  });

  it('name a lost delivery in the fan-out, of either system', () => {
    const result = benchResultFixture();
    const step = result.scenarios.fanout!.chat.steps[1]!;
    step.delivered -= 1;
    step.lost = 1;
    result.scenarios.fanout!.socketio.steps[0]!.lost = 3;
    expect(findDeliveryFaults(result)).toEqual([
      'fanout chat step 1 (200 sends/s): 1 of 40000 deliveries lost',
      'fanout socketio step 0 (100 sends/s): 3 of 20000 deliveries lost',
    ]);
  });

  it('name a delivery out of order in our system, not in the baseline, which promises no order', () => {
    const result = benchResultFixture();
    result.scenarios.fanout!.chat.steps[0]!.outOfOrder = 2;
    result.scenarios.fanout!.socketio.steps[0]!.outOfOrder = 5;
    expect(findDeliveryFaults(result)).toEqual(['fanout chat step 0 (100 sends/s): 2 deliveries out of order']);
  });

  it('name a send without its ack, in the fan-out and in the ack scenario', () => {
    const result = benchResultFixture();
    result.scenarios.fanout!.chat.steps[2]!.acked -= 1;
    result.scenarios.ack!.reference.acked -= 2;
    result.scenarios.ack!.steps[0]!.acked -= 3;
    expect(findDeliveryFaults(result)).toEqual([
      'fanout chat step 2 (300 sends/s): 1 of 1500 sends unacknowledged',
      'ack reference (1000 sends/s): 2 of 5000 sends unacknowledged',
      'ack step 1000 sends/s: 3 of 5000 sends unacknowledged',
    ]);
  });

  it('still count the losses of a first try that was repeated and then passed', () => {
    const result = benchResultFixture();
    const step = result.scenarios.fanout!.chat.steps[0]!;
    step.attempts = 2;
    step.firstAttempt = { sent: 500, acked: 499, expectedDeliveries: 19_960, delivered: 19_950, lost: 10, outOfOrder: 0 };
    const ackStep = result.scenarios.ack!.steps[0]!;
    ackStep.attempts = 2;
    ackStep.firstAttempt = { sent: 5000, acked: 4990 };
    expect(findDeliveryFaults(result)).toEqual([
      'fanout chat step 0 (100 sends/s), first try: 10 of 19960 deliveries lost',
      'fanout chat step 0 (100 sends/s), first try: 1 of 500 sends unacknowledged',
      'ack step 1000 sends/s, first try: 10 of 5000 sends unacknowledged',
    ]);
  });

  it('name idle connections that failed or were never opened', () => {
    const result = benchResultFixture();
    const idle = result.scenarios.idle!;
    idle.failed = 2;
    idle.opened -= 2;
    idle.failures = { timeout: 2 };
    expect(findDeliveryFaults(result)).toEqual(['idle: 2 connections failed ({"timeout":2})', 'idle: 49998 of 50000 connections opened']);
  });

  it('name rows the persister did not write, or wrote twice, and failed history requests', () => {
    const result = benchResultFixture();
    result.scenarios.persist!.rowsWritten += 1;
    result.scenarios.persist!.liveMessages -= 1;
    result.scenarios.history!.errors = { http_500: 4 };
    expect(findDeliveryFaults(result)).toEqual([
      'persist: 500001 rows written for a backlog of 500000',
      'persist: 2499 of 2500 live messages written',
      'history: failed requests {"http_500":4}',
    ]);
  });
});
