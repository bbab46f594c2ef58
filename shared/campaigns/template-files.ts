/**
 * Reads the template set from a `templates/` directory: the catalog
 * (`campaigns.json`, validated) and every `.html` and `.txt` file under it.
 * The repository's directory in tests, CDK and the local stack; a copy beside
 * the bundle in Lambda (infra/constructs/clm-function.ts copies it).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCampaignCatalog } from './catalog.ts';
import type { TemplateSet } from './templates.ts';

/** The repository's templates directory. */
export const REPO_TEMPLATES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'templates');

/** Where the running code finds the templates: beside the Lambda bundle (`/var/task/templates`), else the repository's. */
export function templatesDir(): string {
  const bundled = path.join(path.dirname(fileURLToPath(import.meta.url)), 'templates');
  return existsSync(path.join(bundled, 'campaigns.json')) ? bundled : REPO_TEMPLATES_DIR;
}

export function loadTemplateSet(dir: string = templatesDir()): TemplateSet {
  const catalog = parseCampaignCatalog(JSON.parse(readFileSync(path.join(dir, 'campaigns.json'), 'utf8')));
  const files: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !/\.(html|txt)$/.test(entry.name)) continue;
    const full = path.join(entry.parentPath, entry.name);
    files[path.relative(dir, full).split(path.sep).join('/')] = readFileSync(full, 'utf8');
  }
  return { catalog, files };
}
