// Drives the web console in headless Chromium (Debian's chromium + npm playwright-core from
// web/node_modules) for tests/e2e/test_console.py. One step per run:
//
//   node console.mjs '<json>'   with {"step": ..., "base": "http://127.0.0.1:PORT",
//                                     "token": ..., "screenshots": DIR, "serveDist": DIR|null, ...}
//
// It prints one JSON line per finding ({"ok": ...} or {"event": ...}) and exits 0 when the
// step's checks held, 1 with {"error": ...} when one did not. serveDist: this atende does not
// serve the console yet, so the browser's own request routing answers the console's files
// from web/dist on the server's origin (the API and /asp still go to atende).
import { createRequire } from "node:module";
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const webDir = path.resolve(here, "../../../web");
const require = createRequire(path.join(webDir, "package.json"));
const { chromium } = require("playwright-core");

const opts = JSON.parse(process.argv[2]);
const TIMEOUT = opts.timeoutMs ?? 60_000;

function say(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

function chromiumPath() {
  for (const p of [process.env.CHROMIUM, "/usr/lib/chromium/chromium", "/usr/bin/chromium"]) {
    if (p && existsSync(p)) return p;
  }
  throw new Error("no chromium: install Debian's chromium (scripts/install-deps)");
}

const TYPES = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png" };

/** Answers the console's own files from web/dist (client-side routes get index.html). */
async function serveDist(context, dist) {
  const origin = new URL(opts.base).origin;
  await context.route(
    (url) => url.origin === origin && !/^\/(api|asp|metrics|healthz|readyz)(\/|$)/.test(url.pathname),
    (route) => {
      const url = new URL(route.request().url());
      let file = path.join(dist, path.normalize(url.pathname).replace(/^(\.\.[/\\])+/, ""));
      if (!file.startsWith(dist) || !existsSync(file) || statSync(file).isDirectory()) file = path.join(dist, "index.html");
      route.fulfill({ status: 200, contentType: TYPES[path.extname(file)] ?? "application/octet-stream", body: readFileSync(file) });
    },
  );
}

async function shot(page, name, dir = opts.screenshots) {
  if (!dir) return;
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
  say({ event: "screenshot", name });
}

async function login(page, token) {
  await page.goto(opts.base + "/");
  await page.getByLabel("API token").fill(token);
  await page.getByRole("button", { name: "Log in" }).click();
}

async function loggedIn(page) {
  await login(page, opts.token);
  await page.locator("nav.nav").waitFor();
}

/** Navigates inside the app (a full load would work too: atende serves index.html everywhere). */
async function go(page, to) {
  await page.goto(opts.base + to);
  await page.locator("nav.nav").waitFor();
}

const steps = {
  // A wrong token is refused on the login page and nothing is kept.
  async login_refused(page) {
    await page.goto(opts.base + "/");
    await shot(page, "login");
    await login(page, "not-the-right-token-0000");
    const alert = page.getByRole("alert");
    await alert.waitFor();
    const text = await alert.textContent();
    if (!/refused/.test(text)) throw new Error(`login error says: ${text}`);
    const kept = await page.evaluate(() => sessionStorage.getItem("atende.token"));
    if (kept !== null) throw new Error("a refused token was kept");
    await shot(page, "login-refused");
    say({ ok: "refused", text });
  },

  // The pages that need no call: each renders (or says clearly what the server lacks).
  async pages(page) {
    await loggedIn(page);
    for (const [to, name, heading] of [
      ["/flows", "flows", "Flows and personas"],
      ["/trunks", "trunks", "Trunks and registrations"],
      ["/audit", "audit", "Audit log"],
      ["/start", "start-call", "Start a call"],
    ]) {
      await go(page, to);
      await page.getByRole("heading", { name: heading }).waitFor();
      if (to === "/flows") {
        const first = page.locator(".script-list button.link").first();
        if (await first.count()) {
          await first.click();
          await page.locator(".script-viewer textarea").waitFor();
          // Validate the shown flow as it is (nothing is saved): valid, or the server's errors.
          await page.getByRole("button", { name: "Validate" }).click();
          const verdict = page.locator(".script-viewer .notice").first();
          await verdict.waitFor();
          say({ event: "validated", text: await verdict.textContent() });
        }
      }
      if (to === "/audit") await page.locator("table.audit").waitFor();
      await page.waitForTimeout(300); // lists settle for the picture, nothing is asserted on time
      await shot(page, name);
      const notices = await page.locator(".notice").allTextContents();
      say({ ok: "page", to, notices });
    }
  },

  // Watch the live page; the test dials once "watching" is printed; a row for the call must
  // appear (pushed by /api/events, or polled from /api/live on an older server).
  async live(page) {
    await loggedIn(page);
    await page.getByRole("heading", { name: /Live calls/ }).waitFor();
    say({ event: "watching" });
    const row = page.locator("table.live tbody tr", { has: page.locator("td.flow", { hasText: opts.flow }) }).first();
    await row.waitFor({ timeout: TIMEOUT });
    const id = await row.getAttribute("data-call-id");
    const mode = await page.locator(".badge").textContent();
    await shot(page, "live");
    say({ ok: "live", id, mode, row: await row.textContent() });
  },

  // A finished call's page: its transcript and each answered turn's latency waterfall.
  async call_page(page) {
    await loggedIn(page);
    await go(page, `/calls/${encodeURIComponent(opts.callId)}`);
    for (const text of opts.expectTexts) await page.locator(".transcript", { hasText: text }).waitFor({ timeout: TIMEOUT });
    const wf = page.locator(".waterfall").first();
    await wf.waitFor({ timeout: TIMEOUT });
    const labels = await wf.locator(".wf-label").allTextContents();
    const values = await wf.locator(".wf-value").allTextContents();
    await shot(page, "call");
    await go(page, "/history");
    const row = page.locator(`table.history tr[data-call-id="${opts.callId}"]`);
    await row.waitFor({ timeout: TIMEOUT });
    if (opts.checkFilters) {
      // The server filters: a flow no call ran finds nothing, the call's own flow finds it.
      await page.locator('input[name="flow"]').fill("no-such-flow");
      await page.getByRole("button", { name: "Search" }).click();
      await page.getByText("No calls match.").waitFor({ timeout: TIMEOUT });
      await page.locator('input[name="flow"]').fill(opts.flow);
      await page.getByRole("button", { name: "Search" }).click();
      await row.waitFor({ timeout: TIMEOUT });
      say({ event: "filtered" });
    }
    await shot(page, "history");
    say({ ok: "call_page", labels, values });
  },

  // The start-a-call form dials a callee, whose answer shows on the call's page; then the
  // page's Hang up button ends it.
  async start_call(page) {
    await loggedIn(page);
    await go(page, "/start");
    await page.getByLabel("Number or URI").fill(opts.to);
    await page.getByLabel("flow", { exact: true }).check();
    await page.locator('input[name="script"]').fill(opts.flow);
    await page.getByLabel("Customer name").fill("Ana Souza");
    await shot(page, "start-call-filled");
    await page.getByRole("button", { name: "Call", exact: true }).click();
    await page.waitForURL(/\/calls\/.+/, { timeout: TIMEOUT });
    const id = decodeURIComponent(new URL(page.url()).pathname.split("/").pop());
    say({ event: "placed", id });
    const state = page.getByTestId("call-state");
    await page.waitForFunction(() => document.querySelector('[data-testid="call-state"]')?.textContent === "answered", null, {
      timeout: TIMEOUT,
    });
    await shot(page, "call-answered");
    await page.getByRole("button", { name: "Hang up" }).click();
    await page.waitForFunction(() => document.querySelector('[data-testid="call-state"]')?.textContent === "ended", null, {
      timeout: TIMEOUT,
    });
    say({ ok: "start_call", id, state: await state.textContent() });
  },

  // Talk with the fake microphone (a WAV given to Chromium): what the flow heard or answered
  // appears in the page's transcript.
  async talk(page) {
    await loggedIn(page);
    await go(page, "/talk");
    await page.getByLabel("Flow or persona").fill(opts.to);
    await page.getByRole("button", { name: "Start talking" }).click();
    const line = page.locator(`.live-transcript li${opts.role ? "." + opts.role : ""}`, { hasText: new RegExp(opts.expect, "i") }).first();
    try {
      await line.waitFor({ timeout: TIMEOUT });
    } catch (e) {
      const notices = await page.locator(".notice").allTextContents();
      const lines = await page.locator(".live-transcript li").allTextContents();
      throw new Error(`no transcript line matching /${opts.expect}/: notices ${JSON.stringify(notices)}, lines ${JSON.stringify(lines)}`);
    }
    await shot(page, "talk");
    const lines = await page.locator(".live-transcript li").allTextContents();
    await page.getByRole("button", { name: "Hang up" }).click();
    say({ ok: "talk", lines });
  },
};

async function main() {
  const args = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--autoplay-policy=no-user-gesture-required"];
  if (opts.fakeAudio) {
    args.push("--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream", `--use-file-for-fake-audio-capture=${opts.fakeAudio}`);
  }
  const browser = await chromium.launch({ executablePath: chromiumPath(), headless: true, args, timeout: TIMEOUT });
  const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  context.setDefaultTimeout(TIMEOUT);
  if (opts.serveDist) await serveDist(context, opts.serveDist);
  const page = await context.newPage();
  page.on("console", (m) => m.type() === "error" && say({ event: "console.error", text: m.text() }));
  page.on("pageerror", (e) => say({ event: "pageerror", text: String(e) }));
  try {
    await steps[opts.step](page);
  } catch (e) {
    await shot(page, `failed-${opts.step}`, opts.failureDir).catch(() => undefined);
    say({ error: String(e && e.stack ? e.stack : e) });
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  say({ error: String(e) });
  process.exit(1);
});
