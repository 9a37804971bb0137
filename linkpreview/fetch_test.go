package linkpreview_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/linkpreview"
)

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}

func serve(t *testing.T, addr string, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s: %v", addr, err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func page(title string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte("<html><head><title>" + title + "</title></head><body>hi</body></html>"))
	}
}

func client(t *testing.T, cfg linkpreview.Config) *linkpreview.Client {
	c := linkpreview.NewClient(cfg)
	t.Cleanup(c.Close)
	return c
}

func TestPrivateAddressesRefused(t *testing.T) {
	srv := serve(t, "127.0.0.1:0", page("inside"))
	c := client(t, linkpreview.Config{})
	_, err := c.Get(context.Background(), srv.URL, "text/html")
	if !errors.Is(err, linkpreview.ErrRefused) {
		t.Fatalf("a loopback address without configuration: %v, want refused", err)
	}
	// A name that resolves to 127.0.0.1 is refused by the address it
	// dials, not by its name.
	u, _ := url.Parse(srv.URL)
	_, err = c.Get(context.Background(), "http://localhost:"+u.Port()+"/", "text/html")
	if !errors.Is(err, linkpreview.ErrRefused) {
		t.Fatalf("localhost: %v, want refused", err)
	}
	for _, bad := range []string{"ftp://example.com/", "javascript:alert(1)", "file:///etc/passwd", "http://user:pw@example.com/", "http:///x"} {
		if _, err := c.Get(context.Background(), bad); !errors.Is(err, linkpreview.ErrRefused) {
			t.Errorf("%s: %v, want refused", bad, err)
		}
	}
	// Allowed by configuration, it is fetched.
	ok := client(t, linkpreview.Config{Allow: loopback})
	r, err := ok.Get(context.Background(), srv.URL, "text/html")
	if err != nil || !strings.Contains(string(r.Body), "inside") {
		t.Fatalf("allowed loopback: %v", err)
	}
}

func TestAllowedRanges(t *testing.T) {
	c := linkpreview.NewClient(linkpreview.Config{})
	defer c.Close()
	for _, s := range []string{"127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "0.0.0.0", "224.0.0.1",
		"100.64.0.1", "::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1", "::", "ff02::1", "2002:7f00:1::", "64:ff9b::7f00:1"} {
		if c.Allowed(netip.MustParseAddr(s)) {
			t.Errorf("%s is allowed", s)
		}
	}
	for _, s := range []string{"93.184.216.34", "2606:4700::1111", "8.8.8.8"} {
		if !c.Allowed(netip.MustParseAddr(s)) {
			t.Errorf("%s is refused", s)
		}
	}
}

func TestRedirectToPrivateRefused(t *testing.T) {
	// 127.0.0.1 is allowed, 127.0.0.2 (loopback as well) is not: a
	// redirect there is checked like the first request.
	inside := serve(t, "127.0.0.2:0", page("secret"))
	outside := serve(t, "127.0.0.1:0", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, inside.URL+"/admin", http.StatusFound)
	})
	c := client(t, linkpreview.Config{Allow: loopback})
	_, err := c.Get(context.Background(), outside.URL, "text/html")
	if !errors.Is(err, linkpreview.ErrRefused) {
		t.Fatalf("redirect to 127.0.0.2: %v, want refused", err)
	}
	// To another scheme: refused.
	ftp := serve(t, "127.0.0.1:0", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
	})
	if _, err := c.Get(context.Background(), ftp.URL, "text/html"); !errors.Is(err, linkpreview.ErrRefused) {
		t.Fatalf("redirect to file: %v, want refused", err)
	}
}

func TestRedirectLimit(t *testing.T) {
	var srv *httptest.Server
	srv = serve(t, "127.0.0.1:0", func(w http.ResponseWriter, r *http.Request) {
		n := len(r.URL.Path)
		if n > 4 {
			page("end")(w, r)
			return
		}
		http.Redirect(w, r, r.URL.Path+"x", http.StatusFound)
	})
	// /, /x, /xx, /xxx, /xxxx, /xxxxx: five redirects.
	if _, err := client(t, linkpreview.Config{Allow: loopback, MaxRedirects: 3}).Get(context.Background(), srv.URL+"/", "text/html"); err == nil {
		t.Fatal("five redirects followed with a limit of 3")
	}
	if _, err := client(t, linkpreview.Config{Allow: loopback, MaxRedirects: 5}).Get(context.Background(), srv.URL+"/", "text/html"); err != nil {
		t.Fatalf("five redirects with a limit of 5: %v", err)
	}
}

func TestSizeAndTimeLimits(t *testing.T) {
	big := serve(t, "127.0.0.1:0", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<html><head><title>big</title></head><body>"))
		chunk := []byte(strings.Repeat("x", 64<<10))
		for range 64 { // 4 MiB
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	c := client(t, linkpreview.Config{Allow: loopback, MaxBytes: 100 << 10})
	r, err := c.Get(context.Background(), big.URL, "text/html")
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Body) != 100<<10 || !r.Truncated {
		t.Fatalf("read %d bytes (truncated %v), want 100 KiB", len(r.Body), r.Truncated)
	}
	if m := linkpreview.Parse(r.Body, r.URL); m.Title != "big" {
		t.Fatalf("title of a truncated page: %q", m.Title)
	}

	release := make(chan struct{})
	slow := serve(t, "127.0.0.1:0", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	start := time.Now()
	_, err = client(t, linkpreview.Config{Allow: loopback, Timeout: 300 * time.Millisecond}).Get(context.Background(), slow.URL, "text/html")
	if err == nil {
		t.Fatal("a page that never answers was fetched")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("the timeout of 300 ms took %v", d)
	}
}

func TestNonHTMLIgnored(t *testing.T) {
	srv := serve(t, "127.0.0.1:0", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/zip")
		w.Write([]byte("PK\x03\x04 not a page"))
	})
	if _, err := client(t, linkpreview.Config{Allow: loopback}).Get(context.Background(), srv.URL, "text/html"); err == nil {
		t.Fatal("a zip file was taken for a page")
	}
}

func TestParse(t *testing.T) {
	base, _ := url.Parse("https://news.example/a/b")
	m := linkpreview.Parse([]byte(`<!doctype html><html><head>
		<title>Plain  title</title>
		<meta name="description" content="plain description">
		<meta property="og:title" content="OG &amp; title">
		<meta property="og:site_name" content="News">
		<meta property="og:image" content="/img/c.png">
		<meta name="twitter:description" content="Twitter description">
		</head><body><meta property="og:title" content="not this"></body></html>`), base)
	want := linkpreview.Meta{Title: "OG & title", Description: "Twitter description", SiteName: "News", Image: "https://news.example/img/c.png"}
	if m != want {
		t.Fatalf("got %+v, want %+v", m, want)
	}
	m = linkpreview.Parse([]byte(`<title>Only a title</title><meta property="og:image" content="javascript:alert(1)">`), base)
	if m.Title != "Only a title" || m.Image != "" {
		t.Fatalf("got %+v", m)
	}
	if !linkpreview.Parse([]byte("no html at all"), base).Empty() {
		t.Fatal("text without tags has a preview")
	}
}

func TestFirstLink(t *testing.T) {
	for text, want := range map[string]string{
		"see https://a.example/x.":                               "https://a.example/x",
		"> https://quoted.example\nthen http://b.example":        "http://b.example",
		"`https://code.example` and ```\nhttps://c.example\n```": "",
		"[docs](https://d.example/p) https://e.example":          "https://d.example/p",
		"**https://f.example**":                                  "https://f.example",
		"mailto:a@b.c www.g.example":                             "",
	} {
		if got := linkpreview.FirstLink(text); got != want {
			t.Errorf("FirstLink(%q) = %q, want %q", text, got, want)
		}
	}
}
