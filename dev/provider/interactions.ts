/**
 * The provider's login and consent steps. Login: a form any test user fills in (the stack's
 * password). Consent: granted at once, as Auth0 does for first-party applications.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import { loginPage } from './pages.js';
import type { ProviderSettings } from './settings.js';

interface InteractionHooks {
  settings: ProviderSettings;
  /** Records a login name and returns its `sub`. */
  remember(login: string): string;
  markExtended(grantId: string): void;
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 64 * 1024) throw new Error('form too large');
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(html);
}

async function grantConsent(provider: Provider, req: IncomingMessage, res: ServerResponse, hooks: InteractionHooks) {
  const details = await provider.interactionDetails(req, res);
  const { params, session } = details;
  const missing = details.prompt.details as {
    missingOIDCScope?: string[];
    missingOIDCClaims?: string[];
    missingResourceScopes?: Record<string, string[]>;
  };
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: session?.accountId, clientId: params.client_id as string });
  if (!grant) throw new Error('grant vanished during consent');
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [resource, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
    grant.addResourceScope(resource, scopes.join(' '));
  }
  const grantId = await grant.save();
  if (params.extended_lifetime === 'true') hooks.markExtended(grantId);
  await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

/** Serves `/interaction/:uid` (GET), `/interaction/:uid/login` and `/interaction/:uid/deny` (POST). */
export async function handleInteraction(
  provider: Provider,
  req: IncomingMessage,
  res: ServerResponse,
  hooks: InteractionHooks,
): Promise<void> {
  const [, , uid, action] = new URL(req.url ?? '/', 'http://x').pathname.split('/');
  let details: Awaited<ReturnType<Provider['interactionDetails']>>;
  try {
    details = await provider.interactionDetails(req, res);
  } catch {
    sendHtml(res, 400, loginPage(uid ?? '', '?', 'This login session has expired. Start the login again.'));
    return;
  }
  if (details.uid !== uid) {
    sendHtml(res, 400, loginPage(details.uid, String(details.params.client_id), 'This login page is stale.'));
    return;
  }
  const clientId = String(details.params.client_id);

  if (req.method === 'GET') {
    if (details.prompt.name === 'consent') return grantConsent(provider, req, res, hooks);
    sendHtml(res, 200, loginPage(uid, clientId));
    return;
  }
  if (req.method !== 'POST') {
    res.writeHead(405, { allow: 'GET, POST' }).end();
    return;
  }
  const form = await readForm(req);
  if (action === 'deny') {
    await provider.interactionFinished(
      req,
      res,
      { error: 'access_denied', error_description: 'The user cancelled the login.' },
      { mergeWithLastSubmission: false },
    );
    return;
  }
  const login = form.get('login')?.trim() ?? '';
  if (login === '' || form.get('password') !== hooks.settings.password) {
    sendHtml(res, 401, loginPage(uid, clientId, 'Wrong user name or password.'));
    return;
  }
  const accountId = hooks.remember(login);
  await provider.interactionFinished(req, res, { login: { accountId } }, { mergeWithLastSubmission: false });
}
