package httpapi

import (
	"encoding/json"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// OpenAPI returns the OpenAPI 3 document of the API, built from the route
// table, so it cannot drift from the routes that are served.
func (s *Server) OpenAPI() map[string]any {
	g := &schemaGen{defs: map[string]any{}, names: map[reflect.Type]string{}}
	paths := map[string]map[string]any{}
	for _, rt := range s.routes() {
		op := map[string]any{"summary": rt.Summary, "operationId": operationID(rt)}
		var params []any
		for _, name := range pathParams.FindAllStringSubmatch(rt.Path, -1) {
			params = append(params, map[string]any{"name": name[1], "in": "path", "required": true,
				"schema": map[string]any{"type": "integer", "format": "int64"}})
		}
		for _, q := range strings.Fields(rt.Query) {
			name, typ, _ := strings.Cut(q, ":")
			typ, max, _ := strings.Cut(typ, ":")
			schema := map[string]any{"type": "string"}
			param := map[string]any{"name": name, "in": "query", "schema": schema}
			switch typ {
			case "int":
				param["schema"] = map[string]any{"type": "integer", "format": "int64"}
			case "time":
				schema["format"] = "date-time"
			case "bool":
				param["schema"] = map[string]any{"type": "boolean"}
			case "ints", "strings":
				// A comma-separated list: ?tag=3,4
				item := map[string]any{"type": "integer", "format": "int64"}
				if typ == "strings" {
					item = map[string]any{"type": "string"}
				}
				param["schema"] = map[string]any{"type": "array", "items": item}
				if n, err := strconv.Atoi(max); err == nil {
					param["schema"].(map[string]any)["maxItems"] = n
				}
				param["style"], param["explode"] = "form", false
			}
			params = append(params, param)
		}
		if params != nil {
			op["parameters"] = params
		}
		if rt.In != nil {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"application/json": map[string]any{"schema": g.schema(reflect.TypeOf(rt.In))}}}
		}
		if rt.Upload {
			op["requestBody"] = map[string]any{"required": true, "description": uploadBody, "content": map[string]any{
				"*/*": map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}}}}
		}
		errBody := map[string]any{"application/json": map[string]any{"schema": g.schema(reflect.TypeOf(ErrorBody{}))}}
		responses := map[string]any{"default": map[string]any{"description": "An error", "content": errBody}}
		switch {
		case rt.Out != nil:
			responses["2XX"] = map[string]any{"description": "Success", "content": map[string]any{
				"application/json": map[string]any{"schema": g.schema(reflect.TypeOf(rt.Out))}}}
		case rt.Redirect:
			responses["302"] = map[string]any{"description": "Redirect: see the summary"}
		case strings.HasSuffix(rt.Path, "/ws"):
			responses["101"] = map[string]any{"description": "Switching to the WebSocket protocol"}
		case rt.Method == "GET":
			responses["200"] = map[string]any{"description": "The content"}
		default:
			responses["204"] = map[string]any{"description": "Done"}
		}
		for _, status := range rt.errors() {
			responses[strconv.Itoa(status)] = map[string]any{"$ref": "#/components/responses/" + errorName(status)}
		}
		op["responses"] = responses
		op["security"] = rt.security()
		if rt.Widget {
			op["description"] = widgetDescription
		}
		if paths[rt.Path] == nil {
			paths[rt.Path] = map[string]any{}
		}
		paths[rt.Path][strings.ToLower(rt.Method)] = op
	}
	return map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{"title": "Parley API", "version": "1",
			"description": "Team chat, live chat and support inbox. Errors have the shape {\"error\":{\"code\",\"message\"}}. " +
				"Browser sessions use the parley_session cookie and must echo the parley_csrf cookie in X-CSRF-Token on writes; " +
				"programs use Authorization: Bearer <token>."},
		"paths": paths,
		"components": map[string]any{
			"schemas":   g.defs,
			"responses": errorResponses(g),
			"securitySchemes": map[string]any{
				"bearer": map[string]any{"type": "http", "scheme": "bearer",
					"description": "A session token (POST /auth/login) or an API token (POST /me/tokens; a bot's comes with POST /bots)."},
				"cookie": map[string]any{"type": "apiKey", "in": "cookie", "name": SessionCookie,
					"description": "The web app's session cookie. On every method but GET it needs csrf too."},
				"csrf": map[string]any{"type": "apiKey", "in": "header", "name": CSRFHeader,
					"description": "The " + CSRFCookie + " cookie's value, echoed: required with the session cookie on every method but GET (else 403)."},
				"visitor": map[string]any{"type": "http", "scheme": "bearer",
					"description": "A visitor token (POST /widget/sessions). 401 when missing, unknown or expired."},
				"visitorQuery": map[string]any{"type": "apiKey", "in": "query", "name": "token",
					"description": "The visitor token in the URL, for the widget's socket and links to its files."},
				"origin": map[string]any{"type": "apiKey", "in": "header", "name": "Origin",
					"description": "The host page's origin, set by the browser: it must be one of the project's origins (or the project allows \"*\"); " +
						"a missing or other Origin answers 403. Not a secret: it keeps other sites from embedding the chat."},
			},
		},
	}
}

var pathParams = regexp.MustCompile(`\{([a-z_]+)\}`)

func operationID(rt route) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(rt.Method))
	for _, part := range strings.Split(strings.TrimPrefix(rt.Path, "/api/v1/"), "/") {
		part = strings.Trim(part, "{}")
		for _, w := range strings.FieldsFunc(part, func(r rune) bool { return r == '_' || r == '.' }) {
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
	}
	return b.String()
}

// schemaGen derives JSON schemas from Go types by their json tags.
type schemaGen struct {
	defs  map[string]any
	names map[reflect.Type]string
}

var timeType = reflect.TypeOf(time.Time{})
var rawType = reflect.TypeOf(json.RawMessage{})

func (g *schemaGen) schema(t reflect.Type) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t == rawType:
		return map[string]any{}
	}
	switch t.Kind() {
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer", "format": "int64"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Slice, reflect.Array:
		return map[string]any{"type": "array", "items": g.schema(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.schema(t.Elem())}
	case reflect.Struct:
		name, ok := g.names[t]
		if !ok {
			// Types of different packages may share a name (channel.Input,
			// webhooks.Input): the later ones take their package's name
			// as a prefix.
			name = t.Name()
			if _, taken := g.defs[name]; taken {
				pkg := t.PkgPath()[strings.LastIndexByte(t.PkgPath(), '/')+1:]
				name = strings.ToUpper(pkg[:1]) + pkg[1:] + name
			}
			g.names[t] = name
			g.defs[name] = map[string]any{} // placeholder against recursion
			props := map[string]any{}
			g.fields(t, props)
			g.defs[name] = map[string]any{"type": "object", "properties": props}
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	return map[string]any{}
}

func (g *schemaGen) fields(t reflect.Type, props map[string]any) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			g.fields(ft, props)
			continue
		}
		if name == "" {
			name = f.Name
		}
		schema := g.schema(f.Type)
		// max:"N" documents the cap the owning service enforces on a list
		// (cmd/parley's TestListCaps holds them to it).
		if max, err := strconv.Atoi(f.Tag.Get("max")); err == nil {
			switch schema["type"] {
			case "array":
				schema["maxItems"] = max
			case "object":
				schema["maxProperties"] = max
			}
		}
		props[name] = schema
	}
}

// uploadBody describes an upload's body.
const uploadBody = "The file's bytes. With Content-Length, a body over the limit is refused (413) before it is read; " +
	"without it (Transfer-Encoding: chunked) the body is read to a temporary file and refused (413) as soon as it passes the limit."

// widgetDescription says what every widget operation needs from a page.
const widgetDescription = "Widget API: called from the host page, so it needs an Origin in the project's origins (403 otherwise). " +
	"CORS: every answer, refusals included, carries Access-Control-Allow-Origin with the request's Origin (so the widget can read why " +
	"it was refused) and exposes Retry-After; preflights (OPTIONS) answer 204 for any Origin, since the project is known only from the request."

// errorStatuses are the error answers an operation may document, each
// with what it means; see docs/api.md.
var errorStatuses = map[int]string{
	400: "invalid: bad input (the field is named); nothing changed",
	401: "unauthorized: no valid session, token or visitor token",
	403: "forbidden: known caller without the right, a missing CSRF header, or a refused Origin",
	404: "not_found: no such thing, or one the caller may not know exists",
	409: "conflict: the state does not allow it now",
	413: "too_large: the body or file is over its limit",
	426: "a WebSocket endpoint called without Upgrade: websocket",
	429: "rate_limited: too many attempts; retry after Retry-After seconds",
	503: "unavailable: busy or shutting down; retry",
}

// errors returns the error statuses the route can answer: those its
// flags imply, and those it declares.
func (rt route) errors() []int {
	set := map[int]bool{503: rt.Path != "/api/v1/openapi.json"}
	set[400] = rt.In != nil || rt.Query != "" || rt.Upload || strings.Contains(rt.Path, "{")
	set[401] = !rt.Public
	set[403] = !rt.Public || rt.Widget
	set[404] = strings.Contains(rt.Path, "{")
	set[413] = rt.In != nil || rt.Upload
	set[426] = strings.HasSuffix(rt.Path, "/ws")
	for _, s := range rt.Errors {
		set[s] = true
	}
	var out []int
	for s, ok := range set {
		if ok {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

// security is the route's OpenAPI security: alternatives, each a set of
// schemes that are all needed. Public routes have none (an explicit []).
func (rt route) security() []any {
	req := func(schemes ...string) map[string]any {
		m := map[string]any{}
		for _, s := range schemes {
			m[s] = []any{}
		}
		return m
	}
	switch {
	case rt.Widget && rt.Public:
		return []any{req("origin")}
	case rt.Widget && rt.Link:
		return []any{req("visitor", "origin"), req("visitorQuery", "origin"), req("visitorQuery")}
	case rt.Widget:
		return []any{req("visitor", "origin"), req("visitorQuery", "origin")}
	case rt.Public:
		return []any{}
	case rt.Method == "GET":
		return []any{req("bearer"), req("cookie")}
	}
	return []any{req("bearer"), req("cookie", "csrf")}
}

// errorName names a status's shared response: NotFound, TooManyRequests...
func errorName(status int) string { return strings.ReplaceAll(http.StatusText(status), " ", "") }

func errorResponses(g *schemaGen) map[string]any {
	out := map[string]any{}
	for status, desc := range errorStatuses {
		out[errorName(status)] = map[string]any{"description": desc, "content": map[string]any{
			"application/json": map[string]any{"schema": g.schema(reflect.TypeOf(ErrorBody{}))}}}
	}
	return out
}
