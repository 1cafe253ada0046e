import { afterEach, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { cpuSeconds, CpuSampler, treeCpuSeconds } from './proc-stats.ts';

// Burns 300 ms of CPU, says so, then either exits or idles.
const BURN = "const s = process.cpuUsage(); for (;;) { const u = process.cpuUsage(s); if (u.user + u.system > 300000) break; } console.log('burnt');";

const started: ChildProcess[] = [];
const grandchildren: number[] = [];

/** A parent that starts one child running `childSource` and prints the child's first line. */
async function parentOf(childSource: string, waitForChild: boolean): Promise<number> {
  const parentSource = waitForChild
    ? `require('node:child_process').spawnSync(process.execPath, ['-e', ${JSON.stringify(childSource)}]); console.log('child gone'); setInterval(() => {}, 1000);`
    : `const c = require('node:child_process').spawn(process.execPath, ['-e', ${JSON.stringify(childSource)}]); c.stdout.once('data', () => console.log(String(c.pid))); setInterval(() => {}, 1000);`;
  const parent = spawn(process.execPath, ['-e', parentSource], { stdio: ['ignore', 'pipe', 'inherit'] });
  started.push(parent);
  const [line] = (await once(parent.stdout, 'data')) as [Buffer];
  // A live child outlives a killed parent: it is killed by its own pid.
  if (!waitForChild) grandchildren.push(Number(line.toString().trim()));
  return parent.pid ?? -1;
}

afterEach(() => {
  for (const pid of grandchildren.splice(0)) process.kill(pid, 'SIGKILL');
  for (const child of started.splice(0)) child.kill('SIGKILL');
});

describe('CPU time of a process tree', () => {
  it('counts a child that has exited and been waited for, which the parent alone does not show', async () => {
    const pid = await parentOf(BURN, true);
    expect(treeCpuSeconds(pid)).toBeGreaterThanOrEqual(0.3);
    expect(treeCpuSeconds(pid) - cpuSeconds(pid)).toBeGreaterThanOrEqual(0.3);
  });

  it('counts a live child', async () => {
    const pid = await parentOf(`${BURN} setInterval(() => {}, 1000);`, false);
    expect(treeCpuSeconds(pid) - cpuSeconds(pid)).toBeGreaterThanOrEqual(0.3);
  });

  it('samples what each source used between start and stop, not before', () => {
    let used = 5;
    const sampler = new CpuSampler([{ name: 'fake', cpuSeconds: () => used }]);
    sampler.start();
    used = 5.25;
    expect(sampler.stop()).toEqual({ fake: 0.25 });
    expect(() => treeCpuSeconds(999_999_999)).toThrow('no process 999999999');
  });
});
