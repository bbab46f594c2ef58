/**
 * The public pages' HTML: one layout with its security headers. Everything a
 * page shows that is not a literal of this code goes through `escapeHtml`
 * (names, product ids, plans, a customer's free text). No external resource:
 * the one stylesheet is inline and allowed by its hash in the
 * Content-Security-Policy, which forbids everything else (scripts, images,
 * frames, fonts, connections) and lets forms post to this origin only.
 */
import { createHash } from 'node:crypto';

export const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** A fragment of HTML that is safe as it is (built from literals and escaped values only). */
export type Html = { readonly html: string };
export const raw = (html: string): Html => ({ html });

/** Tagged template: interpolated strings are escaped, `Html` values and arrays of them are kept. */
export function html(strings: TemplateStringsArray, ...values: (string | number | Html | Html[] | undefined | false)[]): Html {
  let out = strings[0]!;
  values.forEach((v, i) => {
    if (v === undefined || v === false) out += '';
    else if (Array.isArray(v)) out += v.map((h) => h.html).join('');
    else if (typeof v === 'object') out += v.html;
    else out += escapeHtml(String(v));
    out += strings[i + 1]!;
  });
  return { html: out };
}

const STYLE = `body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#1b1b1b}
h1{font-size:1.5rem}button{font:inherit;padding:.5rem 1.25rem;border:0;border-radius:.3rem;background:#1d5fbf;color:#fff;cursor:pointer}
fieldset{border:1px solid #ccc;border-radius:.3rem;margin:1rem 0}label{display:block;margin:.25rem 0}textarea{width:100%;font:inherit}
.error{color:#a40000;font-weight:bold}.muted{color:#555;font-size:.9rem}ol li{margin:.25rem 0}`;

const styleHash = createHash('sha256').update(STYLE, 'utf8').digest('base64');

/** The Content-Security-Policy of every page: nothing but the inline stylesheet and forms to this origin. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `style-src 'sha256-${styleHash}'`,
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers of every page: the CSP, no caching (a page is personal), no referrer (the URL holds the token), no framing, no indexing. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'x-robots-tag': 'noindex, nofollow',
};

export function layout(title: string, body: Html): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
${body.html}
</main>
</body>
</html>
`;
}
