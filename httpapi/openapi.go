package httpapi

import (
	"encoding/json"
	"reflect"
	"regexp"
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
		if rt.Path == "/api/v1/files" {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"*/*": map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}}}}
		}
		responses := map[string]any{"default": map[string]any{"description": "An error",
			"content": map[string]any{"application/json": map[string]any{"schema": g.schema(reflect.TypeOf(ErrorBody{}))}}}}
		switch {
		case rt.Out != nil:
			responses["2XX"] = map[string]any{"description": "Success", "content": map[string]any{
				"application/json": map[string]any{"schema": g.schema(reflect.TypeOf(rt.Out))}}}
		case strings.HasPrefix(rt.Path, "/api/v1/files/") || rt.Path == "/api/v1/openapi.json":
			responses["200"] = map[string]any{"description": "The content"}
		case rt.Path == "/api/v1/ws":
			responses["101"] = map[string]any{"description": "Switching to the WebSocket protocol"}
		default:
			responses["204"] = map[string]any{"description": "Done"}
		}
		op["responses"] = responses
		if !rt.Public {
			op["security"] = []any{map[string]any{"bearer": []any{}}, map[string]any{"cookie": []any{}}}
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
			"schemas": g.defs,
			"securitySchemes": map[string]any{
				"bearer": map[string]any{"type": "http", "scheme": "bearer"},
				"cookie": map[string]any{"type": "apiKey", "in": "cookie", "name": SessionCookie},
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
