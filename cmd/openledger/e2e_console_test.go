package main

import (
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"testing"

	"github.com/openledger/openledger/daemon"
)

// TestE2EConsole: `openledger console` needs a running daemon, prints the
// console's address, and by default a one-time link that logs the browser
// in with sign.
func TestE2EConsole(t *testing.T) {
	c := newCLI(t)
	c.fail("no daemon runs", "console", "--no-open")
	base, _ := c.startDaemon()
	if got := c.ok("console", "--no-open", "--perm", "read"); got != base+"/\n" {
		t.Fatalf("console --perm read: %q, want %s/", got, base)
	}
	var out struct{ URL string }
	c.json(&out, "console", "--no-open")
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	resp, err := browser.Get(out.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = browser.Get(base + "/console/session")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s daemon.SessionView
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil || s.Perm != "sign" {
		t.Fatalf("session after following %s: %+v %v", out.URL, s, err)
	}
}
