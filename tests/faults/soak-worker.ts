/**
 * A load-generator process of the soak: holds its share of the clients, so that no process passes
 * its open-file limit, and checks its own clients' views at the end.
 */
import { Fleet, type FleetOptions } from './fleet.ts';
import { OutcomeCheck, type Tally } from './outcome-check.ts';

export type SoakCommand =
  | { kind: 'open'; fleet: FleetOptions }
  | { kind: 'traffic'; perSecond: number }
  | { kind: 'finish'; databaseUrl: string };

export interface SoakWorkerResult {
  clients: number;
  disconnects: number;
  finalCloses: number;
  pending: number;
  tally: Tally;
}

let fleet: Fleet | undefined;

async function handle(command: SoakCommand): Promise<unknown> {
  switch (command.kind) {
    case 'open':
      fleet = await Fleet.open(command.fleet);
      return fleet.members.length;
    case 'traffic':
      fleet?.startTraffic(0, command.perSecond);
      return null;
    case 'finish':
      return finish(command.databaseUrl);
  }
}

async function finish(databaseUrl: string): Promise<SoakWorkerResult> {
  if (!fleet) throw new Error('no clients opened');
  fleet.stopTraffic();
  await fleet.settle(60_000);
  await fleet.checkpoint(0);
  await fleet.settle(60_000);
  const check = new OutcomeCheck(databaseUrl);
  try {
    await check.waitPersisted(fleet.sends.values(), fleet.sessionIds, 120_000);
    await check.waitViews(fleet.members, fleet.sessionIds, 60_000);
    const tally = await check.tally(0, fleet.sends, fleet.members, fleet.sessionIds);
    return {
      clients: fleet.members.length,
      disconnects: fleet.members.reduce((sum, member) => sum + member.disconnects, 0),
      finalCloses: fleet.members.filter((member) => member.finalClose !== undefined).length,
      pending: fleet.pending,
      tally,
    };
  } finally {
    fleet.close();
    await check.close();
  }
}

process.on('message', (message: { id: number; command: SoakCommand }) => {
  handle(message.command).then(
    (reply) => process.send?.({ id: message.id, ok: true, reply }),
    (error: unknown) => process.send?.({ id: message.id, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
  );
});
process.on('disconnect', () => process.exit(0));
