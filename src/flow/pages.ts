/** The small self-contained pages the loopback listener shows the browser after a login. */

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;line-height:1.5}h1{font-size:1.4rem}</style></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

export function successPage(): string {
  return page('Logged in to Mesh', '<p>You can close this tab and return to your terminal.</p>');
}

export function failurePage(reason: string): string {
  return page(
    'Mesh login did not complete',
    `<p>${escapeHtml(reason)}</p><p>Return to your terminal and run <code>npx mesh-auth</code> to try again.</p>`,
  );
}
