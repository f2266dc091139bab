// Fills in a collector's form with Enketo's own engines, as Enketo's web forms do:
//   1. asks the OpenRosa server for its form list and downloads the form it names
//      (`downloadUrl`);
//   2. turns the XForm into Enketo's HTML form and model with enketo-transformer
//      (tests/openrosa);
//   3. bundles enketo-core (this folder, esbuild) and renders the form with it in Debian's
//      headless Chromium (playwright-core from tests/browser);
//   4. for each run of the plan: performs its steps (answers, and checks of what the engine
//      shows), validates the form, takes the instance enketo-core writes
//      (`getDataStr({ irrelevant: false })`, the non-relevant answers left out as Enketo
//      submits them) and POSTs it as the multipart part `xml_submission_file`.
//
// Usage: node fill.mjs SERVER_URL PLAN_JSON [SCREENSHOT_DIR]
//    or: node fill.mjs --xform FILE PLAN_JSON [SCREENSHOT_DIR]  (a form from a file: steps 2
//        to 4 without the POST)
// PLAN_JSON is [{"steps": [step, …]}, …] where a step is one of
//   {"choose": "/data/q", "value": "v"}    clicks an option (radio or checkbox)
//   {"type": "/data/q", "text": "t"}       types an answer and leaves the field
//   {"relevant": "/data/q", "is": bool}    the question is shown and enabled, or not
//   {"options": "/data/q", "are": ["v"…]}  the options offered now, in order
//   {"add": "/data/r"}                     adds a row to repeat r (its + button)
// and "row": i (from 0) in a step of a question inside a repeat names the row.
// Prints [{"instance", "status", "body"}, …] (one per run; only "instance" with --xform); exits 1 with "FAIL: …" on
// stderr when a check fails, the engine reports an error or the form does not validate.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import * as sass from 'sass';
import { fail, launch } from '../browser/launch.mjs';

const { transform } = createRequire(new URL('../openrosa/package.json', import.meta.url))(
  'enketo-transformer',
);

const args = process.argv.slice(2);
const xformFile = args[0] === '--xform' ? args.splice(0, 2)[1] : null;
const [serverUrl, planJson, shots] = xformFile ? [null, ...args] : args;
if (!(serverUrl || xformFile) || !planJson) {
  fail('usage: node fill.mjs (SERVER_URL | --xform FILE) PLAN_JSON [SCREENSHOT_DIR]');
}
const plan = JSON.parse(planJson);
const openrosa = { 'X-OpenRosa-Version': '1.0' };

// 1. The form list, and the form it names.
const download = async () => {
  const list = await fetch(`${serverUrl}/formList`, { headers: openrosa });
  if (list.status !== 200) fail(`formList: ${list.status}`);
  const listXml = await list.text();
  const url = /<downloadUrl>([^<]+)<\/downloadUrl>/.exec(listXml)?.[1]?.replaceAll('&amp;', '&');
  if (!url) fail(`no downloadUrl in the form list: ${listXml}`);
  const r = await fetch(url, { headers: openrosa });
  if (r.status !== 200) fail(`${url}: ${r.status}`);
  return r.text();
};
const xform = xformFile ? readFileSync(xformFile, 'utf8') : await download();

// 2. Enketo's HTML form and model.
const { form: formHtml, model } = await transform({ xform });

// 3. enketo-core and its formhub theme for the browser, and the page.
const dir = mkdtempSync(join(tmpdir(), 'enketo-core-'));
const bundle = await build({
  entryPoints: [new URL('./entry.js', import.meta.url).pathname],
  bundle: true,
  write: false,
  format: 'iife',
  platform: 'browser',
  target: 'chrome110',
  logLevel: 'silent',
});
writeFileSync(join(dir, 'enketo.js'), bundle.outputFiles[0].contents);
// The theme's stylesheets import a few files by their path in Enketo's own repository
// (/packages/enketo-core/…): those are read from this folder's node_modules.
const modules = new URL('./node_modules/', import.meta.url);
const theme = sass.compile(new URL('enketo-core/src/sass/formhub/formhub.scss', modules).pathname, {
  logger: sass.Logger.silent,
  importers: [{
    findFileUrl(url) {
      const m = /^\/packages\/enketo-core\/(node_modules\/)?(.*)$/.exec(url);
      if (!m) return null;
      return new URL(m[1] ? m[2] : `enketo-core/${m[2]}`, modules);
    },
  }],
});
writeFileSync(join(dir, 'formhub.css'), theme.css);
const page = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Enketo</title>
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="formhub.css"></head>
<body><div class="main">${formHtml}</div>
<script>window.modelStr = ${JSON.stringify(model).replaceAll('<', '\\u003c')};</script>
<script src="enketo.js"></script></body></html>`;
writeFileSync(join(dir, 'form.html'), page);

const browser = await launch();
const results = [];
try {
  for (const [n, run] of plan.entries()) {
    const errors = [];
    const context = await browser.newContext({ viewport: { width: 412, height: 915 } });
    const tab = await context.newPage();
    tab.on('pageerror', (e) => errors.push(String(e)));
    tab.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    await tab.goto(pathToFileURL(join(dir, 'form.html')).href);
    const loadErrors = await tab.evaluate(() => {
      window.form = new window.EnketoForm(
        document.querySelector('form.or'),
        { modelStr: window.modelStr, external: [] },
        {},
      );
      return window.form.init();
    });
    if (loadErrors.length) fail(`run ${n}: enketo-core could not load the form: ${loadErrors}`);

    // The controls of question `name` (radio buttons in a repeat row keep their path in
    // data-name only), itemset templates left out; in row `row` of its repeat if given.
    const controls = (name, row) => {
      const scope = row === undefined
        ? tab
        : tab.locator(`.or-repeat[name="${name.slice(0, name.lastIndexOf('/'))}"]`).nth(row);
      return scope.locator(
        `:is([name="${name}"], [data-name="${name}"]):not(.itemset-template, .itemset-template *)`,
      );
    };
    for (const step of run.steps) {
      const where = `run ${n}, ${JSON.stringify(step)}`;
      if (step.choose) {
        const option = controls(step.choose, step.row).and(tab.locator(`[value="${step.value}"]`));
        await option.check({ timeout: 5000 });
      } else if (step.type) {
        const input = controls(step.type, step.row);
        await input.fill(step.text, { timeout: 5000 });
        await input.press('Tab');
      } else if (step.add) {
        const rows = () => tab.locator(`.or-repeat[name="${step.add}"]`).count();
        const before = await rows();
        await tab.locator(`.or-repeat-info[data-name="${step.add}"] .add-repeat-btn`).click();
        if ((await rows()) !== before + 1) fail(`${where}: no row was added`);
      } else if (step.relevant) {
        const state = await controls(step.relevant, step.row).first().evaluate((input) => {
          const branch = input.closest('.or-branch');
          return {
            hidden: !!branch && branch.classList.contains('disabled'),
            disabled: input.disabled,
            visible: input.checkVisibility(),
          };
        });
        const shown = !state.hidden && !state.disabled && state.visible;
        if (shown !== step.is) fail(`${where}: enketo-core shows it: ${JSON.stringify(state)}`);
      } else if (step.options) {
        const values = await controls(step.options, step.row).evaluateAll(
          (inputs) => inputs.filter((i) => i.checkVisibility()).map((i) => i.value),
        );
        if (JSON.stringify(values) !== JSON.stringify(step.are)) {
          fail(`${where}: enketo-core offers ${JSON.stringify(values)}`);
        }
      } else {
        fail(`${where}: unknown step`);
      }
    }
    if (shots) await tab.screenshot({ path: join(shots, `enketo-run-${n}.png`), fullPage: true });
    const valid = await tab.evaluate(() => window.form.validate());
    if (!valid) {
      const invalid = await tab.locator('.invalid-required, .invalid-constraint').allTextContents();
      fail(`run ${n}: enketo-core finds the form invalid: ${invalid.join(' | ')}`);
    }
    const instance = await tab.evaluate(() => window.form.getDataStr({ irrelevant: false }));
    if (errors.length) fail(`run ${n}: the page reported errors: ${errors.join('\n')}`);
    await context.close();

    if (xformFile) {
      results.push({ instance });
      continue;
    }
    // 4. The instance, as Enketo sends it: multipart, the part xml_submission_file.
    const body = new FormData();
    body.append('xml_submission_file', new Blob([instance], { type: 'text/xml' }), 'xml_submission_file');
    const r = await fetch(`${serverUrl}/submission`, { method: 'POST', headers: openrosa, body });
    results.push({ instance, status: r.status, body: await r.text() });
  }
} finally {
  await browser.close();
  rmSync(dir, { recursive: true, force: true });
}
console.log(JSON.stringify(results));
