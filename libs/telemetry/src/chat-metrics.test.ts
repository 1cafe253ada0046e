import { describe, it, expect } from '@jest/globals';
import { chatMetrics } from './chat-metrics.ts';
import { startTelemetry } from './start-telemetry.ts';

describe('chatMetrics', () => {
  it('can be taken before startTelemetry and records into it once started', async () => {
    const metrics = chatMetrics();
    metrics.messagesAccepted.add(5, { transport: 'ws' });
    const telemetry = startTelemetry({ serviceName: 'persister', instanceId: 'early-import' });
    try {
      metrics.messagesAccepted.add(2, { transport: 'ws' });
      expect(telemetry.metrics).toBe(metrics);
      expect(await telemetry.renderMetrics()).toMatch(/chat_messages_accepted_total\{transport="ws",[^}]*\} 2$/m);
    } finally {
      await telemetry.shutdown();
    }
  });

  it('lets a new start follow a shutdown in the same process', async () => {
    const telemetry = startTelemetry({ serviceName: 'persister', instanceId: 'restarted' });
    try {
      chatMetrics().persisterPending.record(11);
      expect(await telemetry.renderMetrics()).toMatch(/chat_persister_pending\{[^}]*service_instance_id="restarted"[^}]*\} 11$/m);
    } finally {
      await telemetry.shutdown();
    }
  });
});
