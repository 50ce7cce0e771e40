/** Terminal output for the CLIs: ✓/✗ marks, colour only on a TTY and without NO_COLOR, a spinner only on a TTY. */
import { currentEnvironment, type EnvironmentVariables, probeEnvironment } from '../internal/environment.js';

export interface Output {
  out(text: string): void;
  err(text: string): void;
  ok(text: string): string;
  fail(text: string): string;
  dim(text: string): string;
  /** A spinner on stderr while waiting (TTY only); returns its stop function. */
  spinner(text: string): () => void;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** `env`: where NO_COLOR is read from. @default this process's environment */
export function createOutput(env?: EnvironmentVariables): Output {
  const environment = env === undefined ? currentEnvironment() : probeEnvironment({ env });
  const tty = environment.tty.stderr;
  const color = tty && !environment.noColor;
  const paint = (code: number) => (text: string) => (color ? `\x1b[${code}m${text}\x1b[0m` : text);
  return {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
    ok: (text) => `${paint(32)('✓')} ${text}`,
    fail: (text) => `${paint(31)('✗')} ${text}`,
    dim: paint(2),
    spinner(text) {
      if (!tty) return () => {};
      let frame = 0;
      const draw = () => process.stderr.write(`\r${FRAMES[frame++ % FRAMES.length]} ${text}`);
      draw();
      const timer = setInterval(draw, 100);
      return () => {
        clearInterval(timer);
        process.stderr.write('\r\x1b[K');
      };
    },
  };
}
