package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"time"

	"encoding/json"
	"fmt"
	"github.com/coder/websocket"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/livechat"
)

// listField is a list (array or map) somewhere in an operation's request
// body, as the OpenAPI document describes it.
type listField struct {
	path  []string // JSON keys from the body's top
	array bool     // an array (else an object with free keys)
	max   int      // maxItems or maxProperties; 0 if the document has none
	item  map[string]any
}

// bodyLists returns every list in the schema s, resolving references
// against the document's components.
func bodyLists(schemas map[string]any, s map[string]any, prefix []string, seen map[string]bool) []listField {
	if ref, ok := s["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/components/schemas/")
		if seen[name] {
			return nil
		}
		seen[name] = true
		defer delete(seen, name)
		s, _ = schemas[name].(map[string]any)
	}
	var out []listField
	props, _ := s["properties"].(map[string]any)
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		p, _ := props[k].(map[string]any)
		path := append(slices.Clone(prefix), k)
		num := func(name string) int { n, _ := p[name].(float64); return int(n) }
		switch {
		case p["type"] == "array":
			item, _ := p["items"].(map[string]any)
			out = append(out, listField{path: path, array: true, max: num("maxItems"), item: item})
		case p["additionalProperties"] != nil:
			item, _ := p["additionalProperties"].(map[string]any)
			out = append(out, listField{path: path, max: num("maxProperties"), item: item})
		default:
			out = append(out, bodyLists(schemas, p, path, seen)...)
		}
	}
	return out
}

// sample is the i-th value of a list's item: distinct numbers and strings,
// empty objects and arrays.
func sample(item map[string]any, i int) any {
	switch item["type"] {
	case "integer":
		return i + 1
	case "string":
		return "s" + strconv.Itoa(i)
	case "array":
		return []any{}
	case "boolean":
		return false
	}
	return map[string]any{}
}

// withList returns base with the list at f.path holding n items.
func withList(base map[string]any, f listField, n int) map[string]any {
	body := map[string]any{}
	for k, v := range base {
		body[k] = v
	}
	var list any
	if f.array {
		l := make([]any, n)
		for i := range l {
			l[i] = sample(f.item, i)
		}
		list = l
	} else {
		m := make(map[string]any, n)
		for i := range n {
			m["k"+strconv.Itoa(i)] = sample(f.item, i)
		}
		list = m
	}
	at := body
	for _, k := range f.path[:len(f.path)-1] {
		next := map[string]any{}
		at[k] = next
		at = next
	}
	at[f.path[len(f.path)-1]] = list
	return body
}

// TestListCaps sends every list of every request body with one item more
// than the OpenAPI document allows, and with 100,000 items: each answers
// 400 naming the list and its documented cap (or 413 when the body is
// over the size limit), and nothing changes. A list the document gives no
// cap fails the test.
func TestListCaps(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, opts ...serverOption) {
		s := newServer(t, opts...)
		lc := newLiveChat(t, s)
		admin := lc.admin
		conv := admin.group("Team", lc.a)
		var group parley.Group
		admin.do("POST", "/api/v1/groups", map[string]any{"name": "Sales"}).want(http.StatusCreated).decode(&group)
		var tmpl parley.CaseTemplate
		admin.do("POST", "/api/v1/case-templates", map[string]any{"name": "Returns"}).want(http.StatusCreated).decode(&tmpl)
		var hook struct{ ID int64 }
		admin.do("POST", "/api/v1/webhooks", map[string]any{"url": "http://127.0.0.1:9/hook"}).want(http.StatusCreated).decode(&hook)
		// Inactive: its failing deliveries would change it meanwhile.
		admin.do("PATCH", "/api/v1/webhooks/"+itoa(hook.ID), map[string]any{"active": false}).want(http.StatusOK)
		var ch struct{ ID int64 }
		admin.do("POST", "/api/v1/channels", map[string]any{"project_id": lc.project.ID, "kind": "api", "name": "API",
			"settings": map[string]string{"url": "http://127.0.0.1:9/api"}}).want(http.StatusCreated).decode(&ch)
		v := s.visitor(t, lc.project.Key, map[string]any{"name": "Vera"})
		v.send("Hello")
		var dlg struct {
			Contact struct{ ID int64 } `json:"contact"`
		}
		admin.do("GET", fmt.Sprintf("/api/v1/dialogs/%d", v.history().Conversation.ID), nil).want(http.StatusOK).decode(&dlg)

		// What each operation needs besides its list: who calls it, where,
		// and the rest of a valid body.
		type call struct {
			c    *client
			path string
			base map[string]any
		}
		proj, grp := itoa(lc.project.ID), itoa(group.ID)
		calls := map[string]call{
			"POST /api/v1/conversations/group":             {admin, "", map[string]any{"title": "Big"}},
			"POST /api/v1/conversations/{id}/members":      {admin, convPath(conv.ID, "/members"), nil},
			"POST /api/v1/conversations/{id}/messages":     {admin, convPath(conv.ID, "/messages"), map[string]any{"client_id": "c1", "text": "hi"}},
			"POST /api/v1/dialogs/delete":                  {admin, "", nil},
			"POST /api/v1/projects/{id}/specialists/erase": {admin, "/api/v1/projects/" + proj + "/specialists/erase", nil},
			"POST /api/v1/groups":                          {admin, "", map[string]any{"name": "Big"}},
			"PUT /api/v1/groups/{id}":                      {admin, "/api/v1/groups/" + grp, map[string]any{"name": "Sales"}},
			"POST /api/v1/projects":                        {admin, "", map[string]any{"name": "Big"}},
			"PATCH /api/v1/projects/{id}":                  {admin, "/api/v1/projects/" + proj, nil},
			"POST /api/v1/case-templates":                  {admin, "", map[string]any{"name": "Big"}},
			"PATCH /api/v1/case-templates/{id}":            {admin, "/api/v1/case-templates/" + itoa(tmpl.ID), map[string]any{"name": "Returns"}},
			"POST /api/v1/channels": {admin, "", map[string]any{"project_id": lc.project.ID, "kind": "api", "name": "Big",
				"settings": map[string]string{"url": "http://127.0.0.1:9/api"}}},
			"PATCH /api/v1/channels/{id}":  {admin, "/api/v1/channels/" + itoa(ch.ID), nil},
			"PATCH /api/v1/contacts/{id}":  {admin, "/api/v1/contacts/" + itoa(dlg.Contact.ID), nil},
			"POST /api/v1/webhooks":        {admin, "", map[string]any{"url": "http://127.0.0.1:9/big"}},
			"PATCH /api/v1/webhooks/{id}":  {admin, "/api/v1/webhooks/" + itoa(hook.ID), nil},
			"POST /api/v1/bots":            {admin, "", map[string]any{"name": "Big bot"}},
			"POST /api/v1/invites":         {admin, "", map[string]any{"email": "big@example.com"}},
			"PUT /api/v1/sms/settings":     {admin, "", nil},
			"PUT /api/v1/me/notifications": {admin, "", map[string]any{"dnd_from": "22:00", "dnd_to": "07:00"}},
			"POST /api/v1/widget/sessions": {s.anon(t), "", map[string]any{"project": lc.project.Key}},
			"PATCH /api/v1/widget/contact": {v.client, "", nil},
			"POST /api/v1/widget/messages": {v.client, "", map[string]any{"client_id": "c1", "text": "hi"}},
		}
		calls["POST /api/v1/widget/sessions"].c.header.Set("Origin", shopOrigin)

		snapshot := func() string {
			var b strings.Builder
			for _, p := range []string{"/api/v1/projects", "/api/v1/projects/" + proj + "/specialists", "/api/v1/groups",
				"/api/v1/conversations", "/api/v1/dialogs", "/api/v1/case-templates", "/api/v1/webhooks", "/api/v1/channels",
				"/api/v1/users?bots=true", "/api/v1/contacts/" + itoa(dlg.Contact.ID), convPath(conv.ID, "/messages")} {
				var x any
				admin.do("GET", p, nil).want(http.StatusOK).decode(&x)
				scrub(x)
				j, _ := json.Marshal(x)
				fmt.Fprintf(&b, "%s %s\n", p, j)
			}
			var h any
			v.do("GET", "/api/v1/widget/messages", nil).want(http.StatusOK).decode(&h)
			j, _ := json.Marshal(h)
			fmt.Fprintf(&b, "widget %s\n", j)
			return b.String()
		}
		before := snapshot()

		var doc struct {
			Paths      map[string]map[string]map[string]any `json:"paths"`
			Components struct {
				Schemas map[string]any `json:"schemas"`
			} `json:"components"`
		}
		s.anon(t).do("GET", "/api/v1/openapi.json", nil).want(http.StatusOK).decode(&doc)
		checked := 0
		for path, ops := range doc.Paths {
			for method, op := range ops {
				checked += checkQueryLists(t, admin, strings.ToUpper(method), path, op)
				rb, _ := op["requestBody"].(map[string]any)
				content, _ := rb["content"].(map[string]any)
				js, _ := content["application/json"].(map[string]any)
				schema, _ := js["schema"].(map[string]any)
				if schema == nil {
					continue
				}
				key := strings.ToUpper(method) + " " + path
				lists := bodyLists(doc.Components.Schemas, schema, nil, map[string]bool{})
				if len(lists) == 0 {
					continue
				}
				cl, ok := calls[key]
				if !ok {
					t.Errorf("%s takes lists; add it to this test", key)
					continue
				}
				if cl.path == "" {
					cl.path = path
				}
				for _, f := range lists {
					name := strings.Join(f.path, ".")
					if f.max == 0 {
						t.Errorf("%s: %s has no maxItems/maxProperties in the document", key, name)
						continue
					}
					for _, n := range []int{f.max + 1, 100_000} {
						r := cl.c.do(strings.ToUpper(method), cl.path, withList(cl.base, f, n))
						if r.Status == http.StatusRequestEntityTooLarge && n > f.max+1 {
							continue // the body is over the size limit
						}
						var e struct {
							Error struct{ Code, Message, Field string }
						}
						json.Unmarshal(r.Body, &e)
						if r.Status != http.StatusBadRequest || e.Error.Field != name || !strings.Contains(e.Error.Message, "at most") ||
							!strings.Contains(strings.ReplaceAll(e.Error.Message, ",", ""), strconv.Itoa(f.max)) {
							t.Errorf("%s with %d items in %s answered %d %s; want 400 naming %s and its cap %d",
								key, n, name, r.Status, r.Body, name, f.max)
						}
						checked++
					}
				}
			}
		}
		t.Logf("%d requests with oversized lists", checked)
		if checked < 40 {
			t.Errorf("only %d lists checked", checked/2)
		}
		if after := snapshot(); after != before {
			t.Errorf("refused lists changed the state:\n got %s\nwant %s", after, before)
		}
	})
}

// checkQueryLists sends each comma-separated list parameter of a GET
// operation with one value more than its maxItems, and with 100,000.
func checkQueryLists(t *testing.T, c *client, method, path string, op map[string]any) int {
	t.Helper()
	params, _ := op["parameters"].([]any)
	n := 0
	for _, p := range params {
		p, _ := p.(map[string]any)
		schema, _ := p["schema"].(map[string]any)
		if p["in"] != "query" || schema["type"] != "array" {
			continue
		}
		name, _ := p["name"].(string)
		max, _ := schema["maxItems"].(float64)
		if method != "GET" || strings.Contains(path, "{") {
			t.Errorf("%s %s: this test sends list parameters to GETs without path parameters only", method, path)
			continue
		}
		if max == 0 {
			t.Errorf("%s %s: the list parameter %s has no maxItems", method, path, name)
			continue
		}
		for _, count := range []int{int(max) + 1, 100_000} {
			vals := make([]string, count)
			for i := range vals {
				vals[i] = strconv.Itoa(i + 1)
			}
			r := c.do(method, path+"?"+name+"="+strings.Join(vals, ","), nil)
			var e struct {
				Error struct{ Code, Message, Field string }
			}
			json.Unmarshal(r.Body, &e)
			if r.Status != http.StatusBadRequest || e.Error.Field != name || !strings.Contains(e.Error.Message, "at most") ||
				!strings.Contains(e.Error.Message, strconv.Itoa(int(max))) {
				t.Errorf("%s %s with %d values in %s answered %d %.300s; want 400 naming %s and its cap %d",
					method, path, count, name, r.Status, r.Body, name, int(max))
			}
			n++
		}
	}
	return n
}

// TestLoneSurrogates: JSON with an unpaired UTF-16 surrogate escape is
// refused wherever clients send JSON (a staff body, the widget, a
// WebSocket frame) instead of being stored as U+FFFD; a proper pair is
// kept as the character it encodes.
func TestLoneSurrogates(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	lc := newLiveChat(t, s)
	conv := lc.admin.group("Team", lc.a)
	v := s.visitor(t, lc.project.Key, map[string]any{"name": "Vera"})
	v.send("Hello")
	texts := func() string {
		var b strings.Builder
		for _, m := range lc.admin.history(conv.ID, "") {
			b.WriteString(m.Text + "|")
		}
		for _, m := range v.history().Messages {
			b.WriteString(m.Text + "|")
		}
		return b.String()
	}
	before := texts()
	for _, body := range []string{`{"client_id":"s1","text":"a\ud800b"}`, `{"client_id":"s2","text":"\udc00"}`,
		`{"client_id":"s3","text":"\ud83d\u0041"}`} {
		e := lc.admin.do("POST", convPath(conv.ID, "/messages"), body).wantErr(http.StatusBadRequest, parley.EINVALID)
		if e.Field != "body" || !strings.Contains(e.Message, "surrogate") {
			t.Errorf("staff send %s: %+v", body, e)
		}
		e = v.do("POST", "/api/v1/widget/messages", body).wantErr(http.StatusBadRequest, parley.EINVALID)
		if e.Field != "body" || !strings.Contains(e.Message, "surrogate") {
			t.Errorf("widget send %s: %+v", body, e)
		}
	}
	v.do("PATCH", "/api/v1/widget/contact", `{"name":"\ud800"}`).wantErr(http.StatusBadRequest, parley.EINVALID)

	sock := lc.admin.connect()
	sock.waitFor("hello")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	frame := fmt.Sprintf(`{"type":"send","req":7,"conversation_id":%d,"client_id":"w1","text":"x\ud800"}`, conv.ID)
	if err := sock.ws.Write(ctx, websocket.MessageText, []byte(frame)); err != nil {
		t.Fatal(err)
	}
	f := sock.waitFor("error")
	if e, _ := f["error"].(map[string]any); e["code"] != parley.EINVALID || !strings.Contains(fmt.Sprint(e["message"]), "surrogate") {
		t.Errorf("the socket answered %v", f)
	}
	if after := texts(); after != before {
		t.Errorf("refused texts were stored:\n got %q\nwant %q", after, before)
	}

	// A surrogate pair is a character: stored as such.
	m := lc.admin.sendBody(conv.ID, json.RawMessage(`{"client_id":"ok","text":"smile \ud83d\ude00"}`))
	if m.Text != "smile 😀" {
		t.Errorf("a surrogate pair was stored as %q", m.Text)
	}
}

// TestUploadWithoutLength: an upload sent chunked (no Content-Length) is
// taken like any other, up to the same limit; past it the answer is 413
// as soon as the limit is passed (an endless body is not read to its
// end), and nothing is kept, not even the spooled part.
func TestUploadWithoutLength(t *testing.T) {
	t.Parallel()
	const max = 64 << 10
	s := newServer(t, func(c *Config) { c.MaxFileSize = max })
	lc := newLiveChat(t, s)
	v := s.visitor(t, lc.project.Key, nil)
	dataDir := s.m.Config.DataDir
	data := bytes.Repeat([]byte("0123456789abcdef"), max/16) // exactly the limit

	for _, up := range []struct {
		c    *client
		path string
	}{{lc.admin, "/api/v1/files?name=a.txt"}, {v.client, "/api/v1/widget/files?name=a.txt"}} {
		var f struct {
			ID   int64
			Size int64
		}
		up.c.do("POST", up.path, io.MultiReader(bytes.NewReader(data))).want(http.StatusCreated).decode(&f)
		if f.Size != int64(len(data)) {
			t.Errorf("%s: chunked upload stored %d bytes; want %d", up.path, f.Size, len(data))
		}
		files := filesIn(t, filepath.Join(dataDir, "files"))
		up.c.do("POST", up.path, io.MultiReader(bytes.NewReader(data), strings.NewReader("x"))).
			wantErr(http.StatusRequestEntityTooLarge, parley.ETOOLARGE)
		// 1 GiB of zeros: refused at the limit, not read to the end.
		up.c.do("POST", up.path, io.LimitReader(zeros{}, 1<<30)).wantErr(http.StatusRequestEntityTooLarge, parley.ETOOLARGE)
		up.c.do("POST", up.path, io.MultiReader()).wantErr(http.StatusBadRequest, parley.EINVALID)
		if n := filesIn(t, filepath.Join(dataDir, "files")); n != files {
			t.Errorf("%s: refused chunked uploads left %d files; want %d", up.path, n, files)
		}
	}
	if n := filesIn(t, filepath.Join(dataDir, "tmp")); n != 0 {
		t.Errorf("%d spooled uploads left in the data directory's tmp", n)
	}
	var got []byte
	r := lc.admin.do("GET", "/api/v1/files/1", nil).want(http.StatusOK)
	got = r.Body
	if !bytes.Equal(got, data) {
		t.Errorf("the chunked upload reads back as %d other bytes", len(got))
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// TestWidgetCORS pins what docs/livechat.md says the widget API answers a
// page whose Origin the project does not allow: the preflight is allowed
// for any Origin (the project is known only from the request itself), and
// the request is refused with 403, its CORS headers naming that Origin so
// the page can read why; a request without an Origin gets no CORS headers.
func TestWidgetCORS(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	lc := newLiveChat(t, s)
	v := s.visitor(t, lc.project.Key, map[string]any{"name": "Vera"})
	v.send("Hello")
	const evil = "https://evil.example"
	count := func() int {
		var p struct{ Dialogs []any }
		lc.admin.do("GET", "/api/v1/dialogs", nil).want(http.StatusOK).decode(&p)
		return len(p.Dialogs)
	}
	dialogs := count()

	pre := s.anon(t)
	pre.header.Set("Origin", evil)
	pre.header.Set("Access-Control-Request-Method", "POST")
	pre.header.Set("Access-Control-Request-Headers", "authorization, content-type")
	r := pre.do("OPTIONS", "/api/v1/widget/sessions", nil).want(http.StatusNoContent)
	for k, want := range map[string]string{"Access-Control-Allow-Origin": evil, "Access-Control-Allow-Methods": "GET, POST, PATCH",
		"Access-Control-Allow-Headers": "Authorization, Content-Type", "Access-Control-Max-Age": "86400", "Vary": "Origin"} {
		if got := r.Header.Get(k); got != want {
			t.Errorf("preflight from a refused origin: %s is %q; want %q", k, got, want)
		}
	}

	from := func(origin, token string) *client {
		c := s.anon(t)
		if origin != "" {
			c.header.Set("Origin", origin)
		}
		c.token = token
		return c
	}
	for _, tc := range []struct {
		origin, token, method, path string
		body                        any
	}{
		{evil, "", "GET", "/api/v1/widget/projects/" + lc.project.Key, nil},
		{evil, "", "POST", "/api/v1/widget/sessions", map[string]any{"project": lc.project.Key}},
		{evil, v.token, "POST", "/api/v1/widget/messages", map[string]any{"client_id": "e1", "text": "from elsewhere"}},
		{evil, v.token, "GET", "/api/v1/widget/messages", nil},
		{"", "", "POST", "/api/v1/widget/sessions", map[string]any{"project": lc.project.Key}},
		{"", v.token, "GET", "/api/v1/widget/messages", nil},
	} {
		r := from(tc.origin, tc.token).do(tc.method, tc.path, tc.body)
		e := r.wantErr(http.StatusForbidden, parley.EFORBIDDEN)
		acao := r.Header.Get("Access-Control-Allow-Origin")
		switch {
		case tc.origin != "" && (acao != tc.origin || r.Header.Get("Access-Control-Expose-Headers") != "Retry-After"):
			t.Errorf("%s %s from %s: CORS headers %v", tc.method, tc.path, tc.origin, r.Header)
		case tc.origin == "" && acao != "":
			t.Errorf("%s %s without an Origin: Access-Control-Allow-Origin %q", tc.method, tc.path, acao)
		}
		if !strings.Contains(e.Message, "may not embed this chat") {
			t.Errorf("%s %s from %q: %+v", tc.method, tc.path, tc.origin, e)
		}
	}
	if n := count(); n != dialogs {
		t.Errorf("refused widget requests changed the dialogs: %d, was %d", n, dialogs)
	}
	if h := v.history(); slices.ContainsFunc(h.Messages, func(m *livechat.VisitorMessage) bool { return m.Text == "from elsewhere" }) {
		t.Errorf("a refused message was stored: %+v", h.Messages)
	}
}

// TestSocketFrameCaps: the lists of WebSocket frames have the caps of the
// same requests over HTTP, and a frame over 64 KiB (100,000 ids) ends
// the connection with 1009 (docs/realtime.md).
func TestSocketFrameCaps(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	a := s.newUser(t, parley.RoleMember, "Anna")
	b := s.newUser(t, parley.RoleMember, "Boris")
	conv := a.group("Team", b)
	sock := a.connect()
	sock.waitFor("hello")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ids := make([]int64, 11)
	for i := range ids {
		ids[i] = int64(i + 1)
	}
	frame, _ := json.Marshal(map[string]any{"type": "send", "req": 3, "conversation_id": conv.ID, "client_id": "f1", "text": "x", "file_ids": ids})
	if err := sock.ws.Write(ctx, websocket.MessageText, frame); err != nil {
		t.Fatal(err)
	}
	f := sock.waitFor("error")
	if e, _ := f["error"].(map[string]any); e["code"] != parley.EINVALID || !strings.Contains(fmt.Sprint(e["message"]), "at most 10") {
		t.Errorf("11 files over the socket: %v", f)
	}
	ids = make([]int64, 100_000)
	for i := range ids {
		ids[i] = int64(i + 1)
	}
	frame, _ = json.Marshal(map[string]any{"type": "send", "req": 4, "conversation_id": conv.ID, "client_id": "f2", "text": "x", "file_ids": ids})
	sock.ws.Write(ctx, websocket.MessageText, frame) // the server may close before reading it all
	if code := sock.closed(); code != websocket.StatusMessageTooBig {
		t.Errorf("a 100,000-id frame closed the socket with %d; want 1009", code)
	}
	if h := a.history(conv.ID, ""); slices.ContainsFunc(h, func(m *parley.Message) bool { return m.Text == "x" }) {
		t.Error("a refused frame's message was stored")
	}
}
