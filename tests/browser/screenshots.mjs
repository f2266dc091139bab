// Takes the README's screenshots from a running demo (`clusterpulse demo`) in Debian's
// headless Chromium: the survey on a phone in Arabic at a middle section, the feedback form
// on a phone, and the report of a closed round on a desktop.
// Adds one invitation (screenshots+<time>@example.org) to an open round of the demo to open the
// survey from its link.
// Usage: node tests/browser/screenshots.mjs <base url> <coordinator email> <password> [out dir]
//   e.g. node tests/browser/screenshots.mjs http://127.0.0.1:8080 coordinator@demo.example PASSWORD
import { chromium } from "playwright-core";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { statSync } from "node:fs";

const [base, email, password, outArg] = process.argv.slice(2);
if (!password) { console.error("usage: screenshots.mjs <base url> <email> <password> [out dir]"); process.exit(2); }
const out = outArg || path.join(path.dirname(fileURLToPath(import.meta.url)), "../../docs/screenshots");
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-quic"],
});
const phone = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 1 };
const shot = async (page, name) => {
  const file = path.join(out, name);
  await page.screenshot({ path: file });
  console.log(`${file} ${statSync(file).size} bytes`);
};
try {
  // Signed in as the coordinator: an open round with the partner survey, a closed one.
  const staff = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
  const api = staff.request;
  const session = await api.post(`${base}/api/v1/session`, { data: { email, password } });
  if (!session.ok()) throw new Error(`sign-in failed: ${session.status()}`);
  const csrf = (await session.json()).csrf_token;
  const { rounds } = await (await api.get(`${base}/api/v1/rounds`)).json();
  const open = rounds.find((r) => r.state === "open" && r.surveys.includes("ccpm-partner"));
  const closed = rounds.find((r) => r.state === "closed");
  if (!open || !closed) throw new Error("the demo has no open and closed rounds");
  const inv = await api.post(`${base}/api/v1/rounds/${open.id}/invitations`, {
    headers: { "X-CSRF-Token": csrf },
    data: { invitations: [{ email: `screenshots+${Date.now()}@example.org`, organization: "Screenshot NGO",
      org_type: "nngo", survey: "ccpm-partner" }] },
  });
  if (!inv.ok()) throw new Error(`invitation: ${inv.status()} ${await inv.text()}`);
  const link = (await inv.json()).invitations[0].link;

  // The survey on a phone, in Arabic, on its third section with some answers.
  const partner = await (await browser.newContext(phone)).newPage();
  await partner.goto(`${link}?lang=ar`);
  await partner.check("input[name=q_meeting_attendance][value=often]");
  await partner.check("input[name=q_coordination_level][value=both]");
  const next = partner.locator(".step-nav button:not(.secondary)");
  for (const want of ["2", "3"]) {
    await next.click();
    await partner.waitForFunction((i) => document.querySelector(".step-label").textContent.includes(i), want);
  }
  await partner.check("input[name=q_assessment_tools][value=agree]");
  await partner.check("input[name=q_assessment_findings][value=strongly_agree]");
  await partner.evaluate(() => document.querySelector(".step-top").scrollIntoView());
  await shot(partner, "survey-phone-ar.png");

  // The feedback form on a phone.
  const person = await (await browser.newContext(phone)).newPage();
  await person.goto(`${base}/f/${open.operation}?lang=en`);
  await shot(person, "feedback-phone.png");

  // The report of a closed round on a desktop.
  const page = await staff.newPage();
  await page.goto(`${base}/rounds/${closed.id}/report`);
  await shot(page, "report-desktop.png");
} finally {
  await browser.close();
}
