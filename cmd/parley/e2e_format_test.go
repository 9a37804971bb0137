package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/cards"
	"github.com/parley-chat/parley/httpapi"
)

// withPreviewsFrom lets the link preview fetcher reach loopback, where the
// tests' pages are.
func withPreviewsFrom(cidr string) serverOption {
	return func(c *Config) { c.previewAllow = []netip.Prefix{netip.MustParsePrefix(cidr)} }
}

// previewSite serves a page with OpenGraph tags and its image, and counts
// the page's fetches.
func previewSite(t *testing.T, pic []byte) (*httptest.Server, *atomic.Int64) {
	n := new(atomic.Int64)
	mux := http.NewServeMux()
	mux.HandleFunc("/article", func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<html><head><title>Fallback</title>
			<meta property="og:title" content="Parley ships previews">
			<meta property="og:description" content="Fetched by the server, never by your browser.">
			<meta property="og:site_name" content="Example News">
			<meta property="og:image" content="/pic.png"></head><body>article</body></html>`)
	})
	mux.HandleFunc("/pic.png", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Write(pic)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, n
}

func TestLinkPreviews(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, opts ...serverOption) {
		site, fetches := previewSite(t, makePNG(t, 800, 400))
		s := newServer(t, append(opts, withPreviewsFrom("127.0.0.0/8"))...)
		a := s.newUser(t, parley.RoleMember, "Anna Alpha")
		b := s.newUser(t, parley.RoleMember, "Boris Beta")
		dm := a.directAllowed(b)
		ws := b.connect()

		// The send is acknowledged before the page is fetched; the preview
		// follows as message.updated.
		m := a.send(dm.ID, "**Read** "+site.URL+"/article, it is short")
		if m.Preview != nil {
			t.Fatalf("the acknowledgement carries a preview already: %+v", m.Preview)
		}
		var got parley.Message
		for got.Preview == nil {
			f := ws.waitFor(parley.EventMessageUpdated)
			data, _ := json.Marshal(f["data"])
			json.Unmarshal(data, &got)
		}
		p := got.Preview
		if got.ID != m.ID || p.URL != site.URL+"/article" || p.Title != "Parley ships previews" || p.SiteName != "Example News" ||
			p.Description != "Fetched by the server, never by your browser." || len(p.Image) != 32 || p.Hidden {
			t.Fatalf("preview %+v of message %d", p, got.ID)
		}
		// The image is Parley's thumbnail, for any signed-in user.
		r := b.do("GET", "/api/v1/link-images/"+p.Image, nil).want(http.StatusOK)
		if r.Header.Get("Content-Type") != "image/jpeg" || !bytes.HasPrefix(r.Body, []byte{0xff, 0xd8}) {
			t.Fatalf("image: %s, % x", r.Header.Get("Content-Type"), r.Body[:min(4, len(r.Body))])
		}
		s.anon(t).do("GET", "/api/v1/link-images/"+p.Image, nil).want(http.StatusUnauthorized)
		// A path that climbs is cleaned by the router (a redirect to
		// /api/etc/passwd, which is nothing), never served.
		b.do("GET", "/api/v1/link-images/../../etc/passwd", nil).want(http.StatusTemporaryRedirect, http.StatusNotFound)

		// History has it; a second message with the link uses the cache.
		h := a.history(dm.ID, "")
		if last := h[len(h)-1]; last.Preview == nil || last.Preview.Title != p.Title {
			t.Fatalf("history: %+v", last.Preview)
		}
		m2 := b.send(dm.ID, site.URL+"/article")
		eventually(t, "the cached preview", func() bool {
			var x parley.Message
			b.get(fmt.Sprintf("/api/v1/messages/%d", m2.ID), &x)
			return x.Preview != nil && x.Preview.Title == p.Title
		})
		if fetches.Load() != 1 {
			t.Fatalf("the page was fetched %d times, want once (cached)", fetches.Load())
		}

		// Only the sender removes it: a member who did not send it is
		// refused, and so is someone outside the conversation.
		b.do("DELETE", fmt.Sprintf("/api/v1/messages/%d/preview", m.ID), nil).wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		s.newUser(t, parley.RoleAdmin, "Olga Outsider").do("DELETE", fmt.Sprintf("/api/v1/messages/%d/preview", m.ID), nil).
			wantErr(http.StatusNotFound, parley.ENOTFOUND)
		var removed parley.Message
		a.do("DELETE", fmt.Sprintf("/api/v1/messages/%d/preview", m.ID), nil).want(http.StatusOK).decode(&removed)
		if removed.Preview == nil || !removed.Preview.Hidden || removed.Preview.Title != "" {
			t.Fatalf("removed: %+v", removed.Preview)
		}
		// A message without a link has no preview to remove.
		plain := a.send(dm.ID, "no link here")
		a.do("DELETE", fmt.Sprintf("/api/v1/messages/%d/preview", plain.ID), nil).wantErr(http.StatusConflict, parley.ECONFLICT)

		// An edit that keeps the link keeps the removal; one that changes
		// the link gets the new page's preview.
		a.do("PATCH", fmt.Sprintf("/api/v1/messages/%d", m.ID), map[string]any{"text": "still " + site.URL + "/article"}).want(http.StatusOK)
		var x parley.Message
		a.get(fmt.Sprintf("/api/v1/messages/%d", m.ID), &x)
		if x.Preview == nil || !x.Preview.Hidden {
			t.Fatalf("after an edit keeping the link: %+v", x.Preview)
		}
	})
}

// TestLinkPreviewsRefusePrivate: without --preview-allow-cidrs, a link to a
// loopback page gets no preview (the fetcher refuses the address), and
// with --link-previews=false nothing is fetched at all.
func TestLinkPreviewsRefusePrivate(t *testing.T) {
	t.Parallel()
	site, fetches := previewSite(t, makePNG(t, 10, 10))
	s := newServer(t)
	a := s.newUser(t, parley.RoleMember, "Anna Alpha")
	b := s.newUser(t, parley.RoleMember, "Boris Beta")
	dm := a.directAllowed(b)
	m := a.send(dm.ID, site.URL+"/article")
	// The refusal is cached as "no preview": wait for that, then check.
	eventually(t, "the refusal cached", func() bool {
		c, err := s.m.store.LinkPreviewCache(t.Context(), site.URL+"/article")
		return err == nil && !c.OK
	})
	var x parley.Message
	a.get(fmt.Sprintf("/api/v1/messages/%d", m.ID), &x)
	if x.Preview != nil || fetches.Load() != 0 {
		t.Fatalf("a loopback page was previewed: %+v, %d fetches", x.Preview, fetches.Load())
	}

	off := newServer(t, withPreviewsFrom("127.0.0.0/8"), func(c *Config) { c.LinkPreviews = false })
	a = off.newUser(t, parley.RoleMember, "Anna Alpha")
	b = off.newUser(t, parley.RoleMember, "Boris Beta")
	dm = a.directAllowed(b)
	m = a.send(dm.ID, site.URL+"/article")
	time.Sleep(300 * time.Millisecond)
	if _, err := off.m.store.LinkPreviewCache(t.Context(), site.URL+"/article"); parley.ErrorCode(err) != parley.ENOTFOUND || fetches.Load() != 0 {
		t.Fatalf("previews off, yet the page was looked at: %v, %d fetches", err, fetches.Load())
	}
}

// TestCards: a card refers to a record; the sender must be able to open
// it, and each reader sees it as their own rights allow.
func TestCards(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, opts ...serverOption) {
		s := newServer(t, opts...)
		lc := newLiveChat(t, s)
		// Nobody is online: the customer's message becomes a case.
		s.visitor(t, lc.project.Key, map[string]any{"name": "Olga Customer", "email": "olga@shop.example"}).send("Is my order shipped?")
		var k parley.Case
		eventually(t, "the offline case", func() bool {
			var list httpapi.CaseList
			lc.a.get("/api/v1/cases", &list)
			if len(list.Cases) > 0 {
				k = *list.Cases[0]
			}
			return k.ID != 0
		})
		m := s.newUser(t, parley.RoleMember, "Mia Member")
		g := lc.a.group("Orders", m, lc.b)

		// Anna (the project's staff) may open the case and the customer.
		refs := []parley.CardRef{{Kind: parley.CardCase, ID: k.ID}, {Kind: parley.CardContact, ID: k.ContactID},
			{Kind: parley.CardUser, ID: m.id()}, {Kind: parley.CardConversation, ID: g.ID}}
		sent := lc.a.sendBody(g.ID, map[string]any{"client_id": "c1", "text": "About this:", "cards": refs})
		if len(sent.Cards) != 4 || sent.Cards[0] != refs[0] {
			t.Fatalf("sent cards %+v", sent.Cards)
		}
		h := m.history(g.ID, "")
		if last := h[len(h)-1]; len(last.Cards) != 4 {
			t.Fatalf("history cards %+v", last.Cards)
		}

		summary := func(c *client, kind string, id int64) cards.Summary {
			var out cards.Summary
			c.get(fmt.Sprintf("/api/v1/cards?kind=%s&id=%d", kind, id), &out)
			return out
		}
		if got := summary(lc.a, parley.CardCase, k.ID); !got.Visible || got.Title != fmt.Sprintf("#%d %s", k.ID, k.Title) || got.Path == "" {
			t.Fatalf("Anna's case card: %+v", got)
		}
		if got := summary(lc.b, parley.CardContact, k.ContactID); !got.Visible || got.Title != "Olga Customer" || got.Subtitle != "olga@shop.example" {
			t.Fatalf("Boris's customer card: %+v", got)
		}
		// Mia is no staff of the project: the same cards say only that she
		// cannot open them, exactly as for records that do not exist.
		for _, ref := range []parley.CardRef{refs[0], refs[1], {Kind: parley.CardCase, ID: k.ID + 1000}} {
			got := summary(m, ref.Kind, ref.ID)
			if want := (cards.Summary{Kind: ref.Kind, ID: ref.ID}); got != want {
				t.Fatalf("Mia's %s card: %+v, want %+v", ref.Kind, got, want)
			}
		}
		if got := summary(m, parley.CardUser, lc.a.id()); !got.Visible || got.Title != "Anna Agent" {
			t.Fatalf("a user card: %+v", got)
		}
		if got := summary(m, parley.CardConversation, g.ID); !got.Visible || got.Title != "Orders" {
			t.Fatalf("a conversation card: %+v", got)
		}
		m.do("GET", "/api/v1/cards?kind=secret&id=1", nil).wantErr(http.StatusBadRequest, parley.EINVALID)

		// Mia cannot send a card of what she cannot open: refused, nothing sent.
		before := len(m.history(g.ID, ""))
		for _, ref := range []parley.CardRef{refs[0], refs[1], {Kind: parley.CardConversation, ID: lc.a.group("Private", lc.b).ID}} {
			m.do("POST", fmt.Sprintf("/api/v1/conversations/%d/messages", g.ID), map[string]any{"text": "look", "cards": []parley.CardRef{ref}}).
				wantErr(http.StatusBadRequest, parley.EINVALID)
		}
		m.do("POST", fmt.Sprintf("/api/v1/conversations/%d/messages", g.ID), map[string]any{"text": "x", "cards": []parley.CardRef{{Kind: "user", ID: 1}, {Kind: "user", ID: 1}}}).
			wantErr(http.StatusBadRequest, parley.EINVALID)
		if n := len(m.history(g.ID, "")); n != before {
			t.Fatalf("refused cards left %d messages, want %d", n, before)
		}

		// Search: Anna finds the customer and the case; Mia neither.
		var found []cards.Summary
		lc.a.get("/api/v1/cards/search?q=olga", &found)
		if !hasCard(found, parley.CardContact, k.ContactID) {
			t.Fatalf("Anna's search: %+v", found)
		}
		lc.a.get(fmt.Sprintf("/api/v1/cards/search?q=%d", k.ID), &found)
		if !hasCard(found, parley.CardCase, k.ID) {
			t.Fatalf("Anna's search by number: %+v", found)
		}
		m.get("/api/v1/cards/search?q=olga", &found)
		if hasCard(found, parley.CardContact, k.ContactID) || hasCard(found, parley.CardCase, k.ID) {
			t.Fatalf("Mia's search found what she cannot open: %+v", found)
		}
		m.get("/api/v1/cards/search?q=ord", &found)
		if !hasCard(found, parley.CardConversation, g.ID) || hasCard(found, parley.CardConversation, 0) {
			t.Fatalf("Mia's search of her chats: %+v", found)
		}
	})
}

func hasCard(list []cards.Summary, kind string, id int64) bool {
	for _, c := range list {
		if c.Kind == kind && c.ID == id && c.Visible {
			return true
		}
	}
	return false
}
