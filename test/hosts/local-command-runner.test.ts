import { describe, expect, it } from 'vitest';
import { LocalCommandRunner } from '../../src/hosts/local-command-runner.js';

const collect = () => {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  return {
    output: { onStdout: (c: Buffer) => out.push(c), onStderr: (c: Buffer) => err.push(c) },
    text: () => ({ stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }),
  };
};

describe('the local command runner: commands forked by a small helper process, not by the worker', () => {
  it('runs commands with their streams, exit codes and timeouts, and starts a new helper when one dies', async () => {
    const runner = new LocalCommandRunner();
    const a = collect();
    const b = collect();
    const [first, second] = await Promise.all([
      runner.run({ command: 'echo out; echo err >&2; exit 3', cwd: '/tmp', timeoutMs: 10_000 }, a.output),
      runner.run({ command: 'pwd', cwd: '/', timeoutMs: 10_000 }, b.output),
    ]);
    expect(first).toEqual({ exitCode: 3, timedOut: false });
    expect(a.text()).toEqual({ stdout: 'out\n', stderr: 'err\n' });
    expect(second.exitCode).toBe(0);
    expect(b.text().stdout).toBe('/\n');
    const helper = runner.pid!;
    expect(helper).not.toBe(process.pid);

    const slow = collect();
    expect(await runner.run({ command: 'exec sleep 5', cwd: '/tmp', timeoutMs: 200 }, slow.output)).toMatchObject({
      timedOut: true,
    });

    // A command in flight when the helper dies fails; the next one gets a new helper.
    const lost = runner.run({ command: 'exec sleep 1', cwd: '/tmp', timeoutMs: 10_000 }, collect().output);
    process.kill(helper, 'SIGKILL');
    await expect(lost).rejects.toThrow('the local command runner exited');
    const again = collect();
    expect(await runner.run({ command: 'echo again', cwd: '/tmp', timeoutMs: 10_000 }, again.output)).toEqual({
      exitCode: 0,
      timedOut: false,
    });
    expect(again.text().stdout).toBe('again\n');
    expect(runner.pid).not.toBe(helper);
    runner.stop();
  });
});
