// Shared by the page scripts: Debian's headless Chromium as the tests start it, and how a
// script fails (a message on stderr, exit code 1).
import { chromium } from "playwright-core";

export const fail = (msg) => { console.error("FAIL: " + msg); process.exit(1); };

export const launch = () => chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
});

// A new page of `browser` at `viewport` that collects script errors into `errors`.
export const phonePage = async (browser, viewport, errors) => {
  const context = await browser.newContext({ viewport, isMobile: true });
  const page = await context.newPage();
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  return page;
};
