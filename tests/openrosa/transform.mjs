// Runs enketo-transformer (the XForm → HTML engine of Enketo and ODK Central's web forms)
// over each XForm file given and prints, per file, the questions of the HTML form it made:
// [{"file", "names": ["/data/q", …], "selects": {"/data/q": ["v", …]}, "languages": […],
//   "itemsets": ["instance('list')/root/item[…]", …]}].
// Exits non-zero (with the transformer's message) when a form does not transform.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const { transform } = createRequire(import.meta.url)('enketo-transformer');

const out = [];
for (const file of process.argv.slice(2)) {
  const xform = readFileSync(file, 'utf8');
  let result;
  try {
    result = await transform({ xform });
  } catch (e) {
    console.error(`${file}: ${e && e.stack ? e.stack : e}`);
    process.exit(1);
  }
  const names = new Set();
  const selects = {};
  for (const m of result.form.matchAll(/<(input|select|textarea)\b[^>]*>/g)) {
    const name = /\sname="([^"]+)"/.exec(m[0]);
    if (!name) continue;
    names.add(name[1]);
    const value = /\svalue="([^"]*)"/.exec(m[0]);
    const type = /\stype="(radio|checkbox)"/.exec(m[0]);
    if (value && type) (selects[name[1]] ||= []).push(value[1]);
  }
  // Itemset-driven selects (cascades) keep their template in a datalist or <select>.
  for (const m of result.form.matchAll(/data-name="([^"]+)"/g)) names.add(m[1]);
  const languages = [...result.form.matchAll(/<option value="([^"]+)"[^>]*data-dir/g)].map((m) => m[1]);
  const itemsets = [...result.form.matchAll(/data-items-path="([^"]+)"/g)].map((m) => m[1]);
  out.push({ file, names: [...names], selects, languages, itemsets });
}
console.log(JSON.stringify(out));
