import { parseArgs } from 'node:util';
import { loadConfigOrExit } from '@chat/config';
import { RedisSwitchStore } from '@chat/redis';
import { connectTarget } from './redis-target.ts';

// `pnpm chat:switch off|on|status`: the kill switch in REDIS_URL; every replica follows within
// CHAT_SWITCH_POLL_MS. The embedded mode keeps its switch in-process: use POST /api/chat/admin/switch there.
const USAGE = 'usage: pnpm chat:switch off|on|status';

const { positionals } = parseArgs({ allowPositionals: true, strict: true, options: {} });
const command = positionals[0];
if (positionals.length !== 1 || (command !== 'on' && command !== 'off' && command !== 'status')) {
  process.stderr.write(`${USAGE} (got "${positionals.join(' ')}")\n`);
  process.exit(64);
}

const config = loadConfigOrExit();
const store = new RedisSwitchStore(connectTarget(config.redisUrl, config.redisCluster));
try {
  if (command !== 'status') await store.write(command);
  const state = await store.read();
  const held = config.chatSwitch.hardOff ? ' (CHAT_DISABLED is set in this environment: processes started with it stay off)' : '';
  process.stdout.write(`chat is ${state}${held}\n`);
} catch (error) {
  process.stderr.write(`chat:switch failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
} finally {
  await store.close();
}
