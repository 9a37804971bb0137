// Package meta is the three channels Meta runs over its Graph API: the
// WhatsApp Cloud API (WhatsApp), Facebook Messenger (Messenger) and
// Instagram messaging (Instagram). They share Meta's webhook handshake
// (hub.challenge), its payload signature (X-Hub-Signature-256, HMAC-SHA256
// of the raw body keyed with the app secret), its bearer tokens and its
// error envelope; each speaks its own message shapes and limits.
package meta

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/channel"
)

// Settings and secrets of Meta's channels, as Spec declares them.
const (
	SettingBaseURL       = "base_url"
	SettingVersion       = "api_version"
	SettingPhoneNumberID = "phone_number_id" // WhatsApp
	SettingPageID        = "page_id"         // Messenger
	SettingAccountID     = "account_id"      // Instagram
	SettingHumanAgent    = "human_agent"     // Messenger: "on" or "off"

	SecretAccessToken = "access_token"
	SecretAppSecret   = "app_secret"
	SecretVerifyToken = "verify_token"
)

// Defaults of the settings: Meta's hosts and the Graph API version the
// adapters were written against.
const (
	FacebookURL    = "https://graph.facebook.com"
	InstagramURL   = "https://graph.instagram.com"
	DefaultVersion = "v23.0"
)

// window is the time a business may answer after the customer's last
// message, on all three; humanAgentWindow is Messenger's with the
// HUMAN_AGENT tag.
const (
	window           = 24 * time.Hour
	humanAgentWindow = 7 * 24 * time.Hour
)

// graph is what the three adapters share: the HTTP client, the host and
// the name the service goes by in messages to managers.
type graph struct {
	client *http.Client
	label  string // "WhatsApp"
	base   string // the default base_url
	// permission is what a token needs to send, named in refusals.
	permission string
}

func newGraph(client *http.Client, label, base, permission string) graph {
	if client == nil {
		client = channel.HTTPClient()
	}
	return graph{client: client, label: label, base: base, permission: permission}
}

// fields are a channel's own id, then the settings every Meta channel
// has.
func (g *graph) fields(id channel.Field) []channel.Field {
	return []channel.Field{
		id,
		{Name: SettingBaseURL, Label: "Graph API URL", Default: g.base, Help: "Meta's; change it only to test against another server"},
		{Name: SettingVersion, Label: "Graph API version", Default: DefaultVersion, Help: "like v23.0"},
	}
}

// secrets are the secrets every Meta channel has.
func (g *graph) secrets(tokenHelp string) []channel.Field {
	return []channel.Field{
		{Name: SecretAccessToken, Label: "Access token", Required: true, Help: tokenHelp},
		{Name: SecretAppSecret, Label: "App secret", Required: true,
			Help: "the Meta app's secret (App settings → Basic): it proves each webhook call is Meta's"},
		{Name: SecretVerifyToken, Label: "Verify token", Default: "(generated)",
			Help: "Parley makes it; paste it with the webhook URL into the app's webhook settings"},
	}
}

// url is a Graph path under the channel's base URL and version.
func (g *graph) url(ch *parley.Channel, parts ...string) string {
	base := strings.TrimRight(ch.Settings[SettingBaseURL], "/")
	if base == "" {
		base = g.base
	}
	v := ch.Settings[SettingVersion]
	if v == "" {
		v = DefaultVersion
	}
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return base + "/" + url.PathEscape(v) + "/" + strings.Join(parts, "/")
}

// do makes one call with the channel's token and returns the response if
// it succeeded; otherwise the Graph error as a *channel.Error.
func (g *graph) do(ch *parley.Channel, req *http.Request) (*http.Response, error) {
	req.Header.Set("Authorization", "Bearer "+ch.Secrets[SecretAccessToken])
	resp, err := g.client.Do(req)
	if err != nil {
		if req.Context().Err() != nil {
			return nil, req.Context().Err()
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, channel.Retry(0, "", "%s could not be reached: %v", g.label, err)
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	return nil, g.errorOf(resp)
}

// call makes a call and decodes its JSON answer into out.
func (g *graph) call(ch *parley.Channel, req *http.Request, out any) error {
	resp, err := g.do(ch, req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(out); err != nil {
		return channel.Refused("", "%s answered with something Parley cannot read: %v", g.label, err)
	}
	return nil
}

// get is a GET of a Graph path.
func (g *graph) get(ctx context.Context, ch *parley.Channel, u string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	return g.call(ch, req, out)
}

// postJSON is a POST of a JSON body.
func (g *graph) postJSON(ctx context.Context, ch *parley.Channel, u string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	return g.call(ch, req, out)
}

// postFile is a multipart POST of fields (in order, name then value)
// and one file, streamed from the store as it is sent.
func (g *graph) postFile(ctx context.Context, ch *parley.Channel, u string, fields []string, fileField string, f channel.OutFile, out any) error {
	rc, err := f.Open(ctx)
	if err != nil {
		return err
	}
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		defer rc.Close()
		err := func() error {
			for i := 0; i+1 < len(fields); i += 2 {
				if err := mw.WriteField(fields[i], fields[i+1]); err != nil {
					return err
				}
			}
			h := textproto.MIMEHeader{}
			h.Set("Content-Disposition", multipart.FileContentDisposition(fileField, fileName(f)))
			h.Set("Content-Type", contentType(f.ContentType))
			part, err := mw.CreatePart(h)
			if err != nil {
				return err
			}
			if _, err := io.Copy(part, rc); err != nil {
				return err
			}
			return mw.Close()
		}()
		pw.CloseWithError(err)
	}()
	defer pr.Close()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, pr)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return g.call(ch, req, out)
}

// fileName is a file's name, never empty (Meta shows it).
func fileName(f channel.OutFile) string {
	if f.Name != "" {
		return f.Name
	}
	return "file"
}

// contentType is a file's bare media type, without parameters.
func contentType(ct string) string {
	if mt, _, err := mime.ParseMediaType(ct); err == nil {
		return mt
	}
	return "application/octet-stream"
}

// attachmentKind is Messenger's and Instagram's name for a file's kind.
func attachmentKind(ct string) string {
	switch parley.AttachmentKind(contentType(ct)) {
	case parley.AttachImage:
		return "image"
	case parley.AttachAudio:
		return "audio"
	case parley.AttachVideo:
		return "video"
	}
	return "file"
}

// handshake answers Meta's check of a webhook URL (a GET with
// hub.mode=subscribe): the challenge back when the verify token is the
// channel's.
func handshake(ch *parley.Channel, r *channel.Request) (*channel.Inbound, error) {
	if r.URL == nil {
		return nil, channel.ErrSignature
	}
	q := r.URL.Query()
	want := ch.Secrets[SecretVerifyToken]
	got := q.Get("hub.verify_token")
	if want == "" || q.Get("hub.mode") != "subscribe" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return nil, channel.ErrSignature
	}
	return &channel.Inbound{Response: &channel.Response{Status: http.StatusOK, ContentType: "text/plain; charset=utf-8",
		Body: []byte(q.Get("hub.challenge"))}}, nil
}

// checkSignature verifies X-Hub-Signature-256 over the raw body: Meta
// signs the bytes it sent (with its unicode escapes), so they are hashed
// as they came.
func checkSignature(ch *parley.Channel, r *channel.Request) error {
	secret := ch.Secrets[SecretAppSecret]
	hexSig, ok := strings.CutPrefix(r.Header.Get("X-Hub-Signature-256"), "sha256=")
	got, err := hex.DecodeString(hexSig)
	if secret == "" || !ok || err != nil {
		return channel.ErrSignature
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(r.Body)
	if !hmac.Equal(got, m.Sum(nil)) {
		return channel.ErrSignature
	}
	return nil
}

// verified runs the checks every Meta webhook call passes: a GET is the
// handshake (its answer returned as done), a POST must be signed.
func verified(ch *parley.Channel, r *channel.Request) (*channel.Inbound, bool, error) {
	switch r.Method {
	case http.MethodGet:
		in, err := handshake(ch, r)
		return in, true, err
	case http.MethodPost:
		return nil, false, checkSignature(ch, r)
	}
	return nil, true, parley.Invalid("method", "Meta's webhook calls are GET or POST, not %s", r.Method)
}

// fetch downloads a file from a link Meta gave (a customer's attachment),
// with the channel's token when bearer is set (WhatsApp's media links
// need it; Messenger's and Instagram's are signed links of their own).
func (g *graph) fetch(ctx context.Context, ch *parley.Channel, link string, bearer bool) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, link, nil)
	if err != nil {
		return nil, channel.Refused("", "%s gave a link Parley cannot use", g.label)
	}
	if bearer {
		resp, err := g.do(ch, req)
		if err != nil {
			return nil, err
		}
		return resp.Body, nil
	}
	resp, err := g.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, channel.Retry(0, "", "%s's file server could not be reached", g.label)
	}
	if resp.StatusCode/100 != 2 {
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
			return nil, channel.HTTPError(resp, 0, "", g.label+" did not serve the file: "+resp.Status)
		}
		return nil, channel.Refused(fmt.Sprint(resp.StatusCode), "%s no longer serves the file (its link expired)", g.label)
	}
	return resp.Body, nil
}

// mediaType is a file's type from its name, when the service gave none.
func mediaType(name, fallback string) string {
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		if t := mime.TypeByExtension(name[i:]); t != "" {
			return contentType(t)
		}
	}
	return fallback
}

// extension is the usual extension of the media types customers send,
// for naming a file the service did not name.
func extension(ct string) string {
	switch contentType(ct) {
	case "image/jpeg":
		return ".jpg"
	case "image/png":
		return ".png"
	case "image/webp":
		return ".webp"
	case "image/gif":
		return ".gif"
	case "audio/ogg":
		return ".ogg"
	case "audio/mpeg":
		return ".mp3"
	case "audio/mp4":
		return ".m4a"
	case "audio/aac":
		return ".aac"
	case "audio/amr":
		return ".amr"
	case "video/mp4":
		return ".mp4"
	case "video/3gpp":
		return ".3gp"
	case "application/pdf":
		return ".pdf"
	}
	if exts, _ := mime.ExtensionsByType(contentType(ct)); len(exts) > 0 {
		return exts[0]
	}
	return ""
}

// thousands writes n with comma separators, as refusals quote sizes.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
