/**
 * Client of test/oracle/kaspa_oracle.py: the official Kaspa Python SDK behind a JSON-lines pipe.
 * Starting it fails loudly when Python or the SDK is missing; differential tests never skip.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';

type Json = Record<string, unknown>;

/** One oracle process; requests are answered in order. */
export class KaspaOracle {
  private readonly pending = new Map<number, { resolve: (v: Json) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private exited: Error | undefined;

  private constructor(private readonly proc: ChildProcessWithoutNullStreams) {
    let stderr = '';
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    createInterface({ input: proc.stdout }).on('line', (line) => {
      const msg = JSON.parse(line) as Json;
      const p = this.pending.get(msg['id'] as number);
      if (p === undefined) return;
      this.pending.delete(msg['id'] as number);
      if (msg['ok'] === true) p.resolve(msg);
      else p.reject(new Error(`oracle: ${String(msg['error'])}`));
    });
    proc.on('exit', (code) => {
      this.exited = new Error(`kaspa oracle exited with ${code}: ${stderr}`);
      for (const p of this.pending.values()) p.reject(this.exited);
      this.pending.clear();
    });
  }

  /** Starts the oracle and checks that the SDK answers. */
  static async start(): Promise<KaspaOracle> {
    const script = join(import.meta.dirname, '../oracle/kaspa_oracle.py');
    const proc = spawn('python3', [script], { stdio: ['pipe', 'pipe', 'pipe'] });
    const oracle = new KaspaOracle(proc);
    await new Promise<void>((resolve, reject) => {
      proc.once('spawn', () => resolve());
      proc.once('error', (e) => reject(new Error(`cannot start python3 for the Kaspa oracle: ${e.message}`)));
    });
    const v = await oracle.call({ op: 'version' });
    if (v['sdk'] !== 'kaspa 2.1.0') throw new Error(`unexpected SDK ${String(v['sdk'])}`);
    return oracle;
  }

  /** Sends one request and waits for its answer. */
  call(req: Json): Promise<Json> {
    if (this.exited) return Promise.reject(this.exited);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.proc.stdin.write(`${JSON.stringify({ id, ...req })}\n`);
    });
  }

  /** Closes the pipe and waits for the process to end. */
  async stop(): Promise<void> {
    if (this.exited) return;
    const done = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
    this.proc.stdin.end();
    await done;
  }
}
