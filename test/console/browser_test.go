package console_test

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"image/png"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/imds-dev/imds"
)

// screenshotEnv names the file the console's screenshot is written to,
// when set: IMDS_CONSOLE_SCREENSHOT=$PWD/docs/console.png go test ./test/console
const screenshotEnv = "IMDS_CONSOLE_SCREENSHOT"

// TestConsole_Browser drives the console as a person would.
func TestConsole_Browser(t *testing.T) {
	// Ensure a person can sign in, switch an instance to IMDSv2-only so
	// that a token-less request gets 401, and that a form forged on another
	// origin, with the session cookie or without, changes nothing.
	chromium := needChromium(t)
	s := startStack(t)

	// IMDSv1 callers before the change: served, and audited.
	for _, src := range []string{"127.0.0.1", "127.0.0.1", "127.0.0.2"} {
		if code := plainGet(t, s.DataURL, src); code != http.StatusOK {
			t.Fatalf("token-less GET from %s before the change: %d, want 200", src, code)
		}
	}

	ctx := newBrowser(t, chromium)
	step := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}

	// Sign in through the form the console sends a stranger to.
	step("open the console",
		chromedp.Navigate(s.ConsoleURL+"/console/"),
		chromedp.WaitVisible(chromedp.ID("access_key_id")))
	step("sign in",
		chromedp.SendKeys(chromedp.ID("access_key_id"), s.KeyID),
		chromedp.SendKeys(chromedp.ID("secret_access_key"), s.Secret),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("table.instances")))
	checkSessionCookie(t, ctx, s.ConsoleURL)

	// Switch web-frontend to IMDSv2 required with the EC2-style form.
	step("open the metadata options form",
		chromedp.Click(chromedp.CSS(`a[href="/console/instances/`+webID+`/metadata-options"]`)),
		chromedp.WaitVisible(chromedp.ID("hop_limit")))
	step("require tokens",
		chromedp.Click(chromedp.CSS(`input[name="http_tokens"][value="required"]`)),
		chromedp.Click(chromedp.CSS(`button.primary`)),
		chromedp.WaitVisible(chromedp.CSS("p.flash")))
	flash, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("p.flash")))
	if err != nil || !strings.Contains(flash, webID) || !strings.Contains(flash, "IMDSv2 required") {
		t.Fatalf("confirmation %q (%v), want one naming %s and IMDSv2 required", flash, err, webID)
	}
	if got := s.tokens(t, webID); got != imds.TokensRequired {
		t.Fatalf("stored http-tokens %q after the form, want required", got)
	}
	if code := plainGet(t, s.DataURL, "127.0.0.1"); code != http.StatusUnauthorized {
		t.Fatalf("token-less GET to %s after the change: %d, want 401", webID, code)
	}
	if code := plainGet(t, s.DataURL, "127.0.0.2"); code != http.StatusOK {
		t.Errorf("token-less GET to %s, left optional: %d, want 200", legacyID, code)
	}

	// A page on another port of the same host (same site: the cookie goes
	// along) and one on another loopback address (another site) each post
	// a form without the token; both are refused.
	for _, addr := range []string{"127.0.0.1:0", "127.0.0.2:0"} {
		attacker := serve(t, addr, &http.Server{Handler: forgedPage(s.ConsoleURL, webID)})
		step("open the forged page on "+attacker,
			chromedp.Navigate(attacker+"/"),
			chromedp.WaitVisible(chromedp.ID("win")))
		resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID("win")))
		if err != nil {
			t.Fatalf("submit the forged form from %s: %v", attacker, err)
		}
		if resp.Status != http.StatusForbidden {
			t.Errorf("forged form from %s: status %d, want 403", attacker, resp.Status)
		}
		body, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
		if err != nil || !strings.Contains(body, "Request refused") {
			t.Errorf("forged form from %s: page says %q (%v), want a refusal", attacker, body, err)
		}
		if got := s.tokens(t, webID); got != imds.TokensRequired {
			t.Fatalf("forged form from %s set http-tokens to %q", attacker, got)
		}
	}
	if code := plainGet(t, s.DataURL, "127.0.0.1"); code != http.StatusUnauthorized {
		t.Errorf("token-less GET after the forged forms: %d, want 401", code)
	}

	// The console as the README shows it.
	step("reload the console",
		chromedp.Navigate(s.ConsoleURL+"/console/"),
		chromedp.WaitVisible(chromedp.CSS("table.instances")))
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(shot))
	if err != nil || cfg.Width < 800 || cfg.Height < 200 {
		t.Fatalf("screenshot: %dx%d (%v), want a PNG of the page", cfg.Width, cfg.Height, err)
	}
	if path := os.Getenv(screenshotEnv); path != "" {
		if err := os.WriteFile(path, shot, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot written to %s (%d bytes)", path, len(shot))
	}
}

// checkSessionCookie reads the session cookie as the browser stored it.
func checkSessionCookie(t *testing.T, ctx context.Context, consoleURL string) {
	t.Helper()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{consoleURL + "/console/"}})
	if err != nil {
		t.Fatalf("read cookies: %v", err)
	}
	for _, ck := range res.Cookies {
		if ck.Name != "imds_console" {
			continue
		}
		if !ck.HTTPOnly || ck.SameSite != network.CookieSameSiteStrict || ck.Path != "/console" {
			t.Errorf("session cookie: HttpOnly %v, SameSite %q, Path %q; want HttpOnly, Strict, /console",
				ck.HTTPOnly, ck.SameSite, ck.Path)
		}
		return
	}
	t.Fatal("the browser holds no session cookie")
}

// forgedPage is a page of another origin with a button that posts a form
// to the console, as a page trying cross-site request forgery would: the
// fields of a change, but no form token.
func forgedPage(consoleURL, id string) http.Handler {
	action := html.EscapeString(consoleURL + "/console/instances/" + id + "/metadata-options")
	page := fmt.Sprintf(`<!doctype html>
<title>You have won</title>
<form method="post" action="%s">
<input type="hidden" name="http_tokens" value="optional">
<input type="hidden" name="hop_limit" value="64">
<button id="win" type="submit">Claim your prize</button>
</form>`, action)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, page)
	})
}

// newBrowser starts headless Chromium with a new empty profile and every
// background service off, so that it talks to nothing but the loopback
// servers of the test; a name that is not localhost does not resolve.
func newBrowser(t *testing.T, path string) context.Context {
	t.Helper()
	profile, err := os.MkdirTemp("", "imds-console-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	output := new(syncBuffer)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 480),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("disable-client-side-phishing-detection", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter,AutofillServerCommunication"),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("no-proxy-server", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1, EXCLUDE 127.0.0.2"),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.CombinedOutput(output),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
		cancel()
		if t.Failed() {
			t.Logf("chromium output:\n%s", output.String())
		}
		// Chromium's helpers can write to the profile for a moment after
		// the browser exits.
		for range 50 {
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	return browserCtx
}

// syncBuffer collects Chromium's output from its goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
