/** How the CLIs show a login: the URL or the device code on stderr, then a spinner (TTY only) until it ends. */
import type { AuthFlowCallbacks } from '../flow/auth-flow.js';
import type { Output } from './output.js';

export interface LoginUi {
  callbacks: AuthFlowCallbacks;
  /** Stops the spinner (call when the login ends, however it ends). */
  stop(): void;
}

export function loginUi(out: Output): LoginUi {
  let stopSpinner = () => {};
  const wait = (text: string) => {
    stopSpinner();
    stopSpinner = out.spinner(text);
  };
  return {
    stop: () => stopSpinner(),
    callbacks: {
      onAuthUrl(url, opened) {
        out.err(
          opened
            ? 'Opened your browser to log in to Mesh. If it did not open, visit:'
            : 'To log in to Mesh, open this URL in a browser:',
        );
        out.err(url);
        wait('Waiting for the login in the browser... (Ctrl-C to cancel)');
      },
      onVerification(verification) {
        out.err(`To log in to Mesh, open ${verification.verificationUri} and enter the code: ${verification.userCode}`);
        if (verification.verificationUriComplete) out.err(`Or open: ${verification.verificationUriComplete}`);
        wait('Waiting for the device login... (Ctrl-C to cancel)');
      },
      onHeadlessTokens(_tokens, instructions) {
        stopSpinner();
        out.err(instructions);
      },
    },
  };
}
