// Package linkpreview fetches what a link preview shows: a web page's title,
// description, site name and image, read by the server so that clients
// never load third-party pages or images themselves. Every request is
// bounded (time, bytes, redirects) and never reaches a private, loopback,
// link-local, multicast or unspecified address unless the operator allows
// its range: the check runs on the address actually dialled, so a name that
// resolves to an inside address (DNS rebinding included) is refused too.
package linkpreview

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Config bounds the fetcher.
type Config struct {
	// Timeout bounds a whole fetch, redirects and body included (default 5 s).
	Timeout time.Duration
	// MaxBytes is the most of a page read (default 512 KiB; more is not
	// read); an image may be four times as large.
	MaxBytes int64
	// MaxRedirects is how many redirects are followed (default 3), each
	// checked like the first request.
	MaxRedirects int
	// Allow lists ranges that are reachable although they are inside
	// (tests: 127.0.0.0/8).
	Allow []netip.Prefix
	// UserAgent is sent with every request.
	UserAgent string
}

// ErrRefused is returned for a URL or an address the fetcher will not reach.
var ErrRefused = errors.New("linkpreview: address refused")

// Client fetches pages and images within Config's bounds.
type Client struct {
	cfg  Config
	http *http.Client
}

// NewClient returns a fetcher.
func NewClient(cfg Config) *Client {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = 512 << 10
	}
	if cfg.MaxRedirects <= 0 {
		cfg.MaxRedirects = 3
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "Parley link preview (+https://github.com/parley-chat/parley)"
	}
	c := &Client{cfg: cfg}
	d := &net.Dialer{Timeout: cfg.Timeout, Control: c.control}
	tr := &http.Transport{
		// No proxy from the environment: a proxy would dial for us, past
		// the address check.
		Proxy:                  nil,
		DialContext:            d.DialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           10,
		IdleConnTimeout:        30 * time.Second,
		TLSHandshakeTimeout:    cfg.Timeout,
		ResponseHeaderTimeout:  cfg.Timeout,
		MaxResponseHeaderBytes: 64 << 10,
	}
	c.http = &http.Client{Transport: tr, Timeout: cfg.Timeout, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) > cfg.MaxRedirects {
			return fmt.Errorf("linkpreview: more than %d redirects", cfg.MaxRedirects)
		}
		return checkURL(req.URL)
	}}
	return c
}

// Close releases idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

// control runs on every connection before it is made, with the address
// about to be dialled (after name resolution).
func (c *Client) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrRefused, address)
	}
	if !c.Allowed(ap.Addr()) {
		return fmt.Errorf("%w: %s is not a public address", ErrRefused, ap.Addr())
	}
	return nil
}

// Allowed reports whether the fetcher may connect to ip: a public unicast
// address, or one in a range the configuration allows.
func (c *Client) Allowed(ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, p := range c.cfg.Allow {
		if p.Contains(ip) {
			return true
		}
	}
	return public(ip)
}

// public reports whether ip is a global unicast address outside the ranges
// that lead inside a network.
func public(ip netip.Addr) bool {
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsUnspecified() || ip.IsMulticast() ||
		ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() || !ip.IsGlobalUnicast() {
		return false
	}
	for _, p := range inside {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// inside are ranges netip's predicates leave out that are not the public
// internet: carrier-grade NAT, the benchmarking and documentation
// networks, IPv4 translation prefixes, 6to4 and Teredo (which embed IPv4
// addresses), and "this network".
var inside = func() []netip.Prefix {
	var ps []netip.Prefix
	for _, s := range []string{"0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "192.0.2.0/24", "198.18.0.0/15", "198.51.100.0/24",
		"203.0.113.0/24", "240.0.0.0/4", "64:ff9b::/96", "64:ff9b:1::/48", "2001::/32", "2001:db8::/32", "2002::/16"} {
		ps = append(ps, netip.MustParsePrefix(s))
	}
	return ps
}()

func checkURL(u *url.URL) error {
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%w: only http and https", ErrRefused)
	}
	if u.User != nil || u.Hostname() == "" {
		return fmt.Errorf("%w: no host, or credentials in the address", ErrRefused)
	}
	return nil
}

// Response is a fetched body, at most Config.MaxBytes of it.
type Response struct {
	URL         *url.URL // after redirects
	ContentType string   // its media type, lower case, without parameters
	Body        []byte
	Truncated   bool // the body was longer than MaxBytes
}

// Get fetches rawURL. accept is the media types wanted ("text/html",
// "image/"): a response of another type is refused before its body is read.
func (c *Client) Get(ctx context.Context, rawURL string, accept ...string) (*Response, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRefused, err)
	}
	if err := checkURL(u); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	req.Header.Set("Accept", "text/html,application/xhtml+xml,image/*;q=0.8")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("linkpreview: %s answered %s", u.Host, resp.Status)
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	mt = strings.ToLower(mt)
	ok := len(accept) == 0
	for _, a := range accept {
		if mt == a || (strings.HasSuffix(a, "/") && strings.HasPrefix(mt, a)) {
			ok = true
		}
	}
	if !ok {
		return nil, fmt.Errorf("linkpreview: %s is %q, not %v", u, mt, accept)
	}
	limit := c.cfg.MaxBytes
	if strings.HasPrefix(mt, "image/") {
		limit *= 4 // an image is read whole or not used: 2 MiB by default
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, err
	}
	r := &Response{URL: resp.Request.URL, ContentType: mt, Body: body}
	if int64(len(body)) > limit {
		r.Body, r.Truncated = body[:limit], true
	}
	return r, nil
}
