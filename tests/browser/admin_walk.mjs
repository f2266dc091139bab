// Running clusterpulse without a shell, in Debian's headless Chromium, one person at a time
// (tests/admin_browser.rs runs the steps and checks the results over the API):
//   node admin_walk.mjs admin BASE EMAIL PASSWORD FORM.xlsx BAD.toml COORD_EMAIL PSEA_EMAIL
//     a new admin signs in, is sent to set up an authenticator app and does so, invites a
//     coordinator and a PSEA focal point, fixes the Shelter cluster's lead emails, uploads a
//     broken survey (refused, named by line) and then an XLSForm, previews it in every
//     language and publishes it, makes an API token and revokes it
//   node admin_walk.mjs coordinator BASE LINK EMAIL PASSWORD
//     the invited coordinator sets a password from the emailed link, signs in and starts a
//     round on the uploaded survey from the dashboard
//   node admin_walk.mjs psea BASE LINK EMAIL PASSWORD
//     the invited PSEA focal point sets a password, signs in and must enrol an authenticator
//     app before reaching the feedback inbox
// Authenticator codes come from Python's pyotp (EXPORT_TOOLS_PYTHON). Prints one JSON line.
import { chromium } from "playwright-core";
import { execFileSync } from "node:child_process";

const [step, base, ...args] = process.argv.slice(2);
const fail = (msg) => { console.error(`FAIL (${step}): ${msg}`); process.exit(1); };
const python = process.env.EXPORT_TOOLS_PYTHON;
const totp = (secret) =>
  execFileSync(python, ["-c", "import pyotp,sys; print(pyotp.TOTP(sys.argv[1]).now())", secret])
    .toString().trim();

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
const page = await context.newPage();
const errors = [];
page.on("pageerror", (e) => errors.push(String(e)));

async function submit(selector) {
  await Promise.all([page.waitForNavigation(), page.click(selector)]);
}

async function expectText(selector, text, what) {
  const got = (await page.textContent(selector)) || "";
  if (!got.includes(text)) fail(`${what}: expected "${text}" in ${selector}, got "${got.slice(0, 300)}"`);
}

async function signIn(email, password) {
  await page.goto(base + "/login");
  await page.fill("#email", email);
  await page.fill("#password", password);
  await submit("form[action='/login'] button[type=submit]");
}

// Sets up the authenticator app from the account page; returns the key.
async function enrol() {
  if (!page.url().includes("/account")) fail("not sent to the account page to set up the app: " + page.url());
  await expectText("#totp", "requires sign-in with an authenticator app", "the requirement is told");
  await submit("form[action='/account/totp'] button");
  const secret = ((await page.textContent("#totp code.secret")) || "").trim();
  if (!/^[A-Z2-7]{16,}$/.test(secret)) fail("no base32 key shown: " + secret);
  await page.fill("#totp_code", totp(secret));
  await submit("form[action='/account/totp/confirm'] button");
  const codes = await page.locator("ul.recovery-codes li").count();
  if (codes !== 10) fail(`expected 10 recovery codes, saw ${codes}`);
  return secret;
}

async function setPassword(link, password) {
  await page.goto(link);
  await page.fill("#password", password);
  await page.fill("#confirm", password);
  await submit("form[action^='/password/'] button");
  await expectText("main", "Your password is set", "set-password answer");
}

const out = { ok: true };
try {
  if (step === "admin") {
    const [email, password, form, bad, coordEmail, pseaEmail] = args;
    await signIn(email, password);
    out.secret = await enrol();
    // With the app set up, the admin pages open.
    for (const [who, role] of [[coordEmail, "coordinator"], [pseaEmail, "psea_focal_point"]]) {
      await page.goto(base + "/admin/users");
      await page.fill("#invite-email", who);
      await page.selectOption("#invite-role", role);
      await page.selectOption("#invite-operations", ["shelter-yemen"]);
      await submit("form[action='/admin/users/invitations'] button");
      await expectText("main", "Invitation sent", "invitation of " + who);
    }
    await page.goto(base + "/admin/directory");
    await page.fill("#cluster-leads-shelter",
                    "lead.one@shelter.example.org, lead.two@shelter.example.org");
    await submit("#cluster-shelter button[type=submit]");
    await expectText("main", "Saved.", "lead emails");

    await page.goto(base + "/admin/surveys");
    await page.setInputFiles("#survey-file", bad);
    await submit("form[action='/admin/surveys/uploads'] button");
    await expectText("#upload-problems", "was not accepted", "a broken file is refused");
    await expectText("#upload-problems", "broken.toml:2", "the problem names the file and its line");
    await page.setInputFiles("#survey-file", form);
    await submit("form[action='/admin/surveys/uploads'] button");
    if (!/\/admin\/surveys\/uploads\/\d+$/.test(page.url())) fail("no preview page: " + page.url());
    for (const lang of ["en", "fr", "es", "ar"]) {
      if ((await page.locator(`#preview thead th[lang=${lang}]`).count()) !== 1) fail("preview lacks " + lang);
    }
    await expectText("#preview", "Cluster meetings focus on the priorities", "English text in the preview");
    await expectText("#preview", "ترك", "Arabic text in the preview");
    if ((await page.getAttribute("#q-meetings_focus td[lang=ar]", "dir")) !== "rtl") fail("Arabic cells are not right-to-left");
    await submit("#publish button");
    await expectText("main", "Published", "publish notice");
    await expectText("#surveys", "wash-partners", "the published survey is listed");

    await page.goto(base + "/account");
    await page.fill("#label", "walk token");
    await submit("form[action='/account/tokens'] button");
    const token = ((await page.textContent("#tokens code.secret")) || "").trim();
    if (token.length < 20) fail("the new token is not shown once");
    out.token = token;
    const row = page.locator("#tokens tr", { hasText: "walk token" });
    await Promise.all([page.waitForNavigation(), row.locator("button", { hasText: "Revoke" }).click()]);
    if ((await page.locator("#tokens tr", { hasText: "walk token" }).locator("button").count()) !== 0) {
      fail("the revoked token can still be revoked");
    }
  } else if (step === "coordinator") {
    const [link, email, password] = args;
    await setPassword(link, password);
    await signIn(email, password);
    await expectText("main", "Start a performance monitoring round", "the dashboard offers a round");
    const boxes = page.locator("input[name=surveys]");
    for (let i = 0; i < await boxes.count(); i++) {
      const b = boxes.nth(i);
      if ((await b.getAttribute("value")) === "wash-partners") await b.check(); else await b.uncheck();
    }
    await page.fill("#title", "WASH partners walk");
    const closes = new Date(Date.now() + 14 * 86400e3).toISOString().slice(0, 10);
    await page.fill("#closes_on", closes);
    await submit("form[action='/rounds'] button[type=submit]");
    const m = page.url().match(/\/rounds\/(\d+)$/);
    if (!m) fail("no round page after creating: " + page.url());
    out.round = Number(m[1]);
    await expectText("main", "WASH partners walk", "the round page");
  } else if (step === "psea") {
    const [link, email, password] = args;
    await setPassword(link, password);
    await signIn(email, password);
    out.secret = await enrol();
    await page.goto(base + "/feedback");
    if (page.url().includes("/account")) fail("still sent to the account page after enrolling");
    await expectText("h1", "eedback", "the inbox opens");
  } else {
    fail("unknown step");
  }
  if (errors.length) fail("page errors: " + errors.join("; "));
  console.log(JSON.stringify(out));
} finally {
  await browser.close();
}
