/**
 * Terminal helpers of the CLI: a password prompt that does not echo, and QR codes drawn with
 * Unicode half blocks (two module rows per text row).
 */
import { encode } from 'uqr';
import { CliError } from './exit.ts';

/** Longest line read from a terminal prompt (a password or a recovery key). */
const MAX_PROMPT_CHARS = 4096;

/**
 * Asks for a secret on the terminal without echoing it: stdin in raw mode, one character at
 * a time, Backspace honoured, Ctrl-C and Ctrl-D end the prompt. The prompt goes to stderr so
 * that stdout stays the command's output.
 */
export function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) return Promise.reject(new CliError('NO_PASSWORD', 'Not a terminal: cannot prompt'));
  process.stderr.write(question);
  return new Promise<string>((resolve, reject) => {
    let text = '';
    const done = (error?: Error): void => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (error === undefined) resolve(text);
      else reject(error);
    };
    const onData = (chunk: Buffer): void => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003' || ch === '\u0004') return done(new CliError('NO_PASSWORD', 'Cancelled'));
        if (ch === '\u007f' || ch === '\b') text = [...text].slice(0, -1).join('');
        else if (ch >= ' ' && text.length < MAX_PROMPT_CHARS) text += ch;
      }
    };
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on('data', onData);
  });
}

/** Asks for a line with echo (a name), on stderr. */
export async function promptLine(question: string): Promise<string> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
}

/**
 * The QR code of `text` for a terminal: error correction M and a 2-module quiet zone, as the
 * web app's (src/web/qr.ts). Light modules are drawn as blocks, the way terminal QR tools
 * do, since most terminals show light text on a dark background; `dark` inverts that.
 */
export function terminalQr(text: string, options: { readonly lightOnDark?: boolean } = {}): string[] {
  const qr = encode(text, { ecc: 'M', border: 2 });
  const lightOnDark = options.lightOnDark ?? true;
  const ink = (x: number, y: number): boolean => {
    const dark = qr.data[y]?.[x] ?? false;
    return lightOnDark ? !dark : dark;
  };
  const lines: string[] = [];
  for (let y = 0; y < qr.size; y += 2) {
    let line = '';
    for (let x = 0; x < qr.size; x++) {
      const top = ink(x, y);
      // The last row of an odd-sized code pairs with the quiet zone below it.
      const bottom = y + 1 < qr.size ? ink(x, y + 1) : lightOnDark;
      line += top ? (bottom ? '\u2588' : '\u2580') : bottom ? '\u2584' : ' ';
    }
    lines.push(line);
  }
  return lines;
}
