/** Self-contained HTML pages of the stand-in provider: no external fonts or scripts. */
import type { KoaContextWithOIDC } from 'oidc-provider';

const STYLE =
  'body{font-family:system-ui,sans-serif;max-width:22rem;margin:3rem auto;padding:0 1rem}' +
  'input,button{display:block;width:100%;box-sizing:border-box;margin:.4rem 0;padding:.6rem;font-size:1rem}' +
  'button.secondary{background:none;border:1px solid #999}.error{color:#b00020}small{color:#555}';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

/** The login form: any login name, the stack's test password. Field names follow oidc-provider's dev pages. */
export function loginPage(uid: string, clientId: string, error?: string): string {
  return page(
    'Log in to Mesh (local stack)',
    `${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<p>Application <code>${escapeHtml(clientId)}</code> asks you to log in.</p>
<form method="post" action="/interaction/${escapeHtml(uid)}/login" autocomplete="off">
  <label>Email or user name<input name="login" required autofocus></label>
  <label>Password<input name="password" type="password" required></label>
  <button type="submit" name="action" value="login">Log in</button>
</form>
<form method="post" action="/interaction/${escapeHtml(uid)}/deny">
  <button type="submit" class="secondary" name="action" value="deny">Cancel</button>
</form>
<small>Local test provider: any user name logs in with the stack's test password.</small>`,
  );
}

export function renderErrorPage(out: object): string {
  const rows = Object.entries(out)
    .map(([key, value]) => `<dt>${escapeHtml(key)}</dt><dd>${escapeHtml(String(value))}</dd>`)
    .join('');
  return page('Something went wrong', `<dl>${rows}</dl>`);
}

/** Device-flow pages (RFC 8628 §3.3): enter the code, confirm it, done. */
export const deviceSources = {
  async userCodeInputSource(ctx: KoaContextWithOIDC, form: string, _out: unknown, error?: Error) {
    const message = error ? '<p class="error" role="alert">That code is not valid. Try again.</p>' : '';
    ctx.body = page(
      'Activate your device',
      `${message}<p>Enter the code shown on your device.</p>${form}<button type="submit" form="op.deviceInputForm">Continue</button>`,
    );
  },
  async userCodeConfirmSource(ctx: KoaContextWithOIDC, form: string, _client: unknown, _info: unknown, userCode: string) {
    ctx.body = page(
      'Confirm your device',
      `<p>Check that your device shows <code id="user-code">${escapeHtml(userCode)}</code>.</p>${form}
<button autofocus type="submit" form="op.deviceConfirmForm">Continue</button>
<button type="submit" class="secondary" form="op.deviceConfirmForm" value="yes" name="abort">Abort</button>`,
    );
  },
  async successSource(ctx: KoaContextWithOIDC) {
    ctx.body = page('Device connected', '<p>You can close this page and return to your device.</p>');
  },
};
