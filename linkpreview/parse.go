package linkpreview

import (
	"bytes"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Meta is what a page says about itself.
type Meta struct {
	Title       string
	Description string
	SiteName    string
	Image       string // absolute http(s) URL, or ""
}

// Empty reports whether the page said nothing worth a preview.
func (m Meta) Empty() bool { return m.Title == "" && m.Description == "" }

const (
	maxTitle = 300
	maxDesc  = 600
	maxSite  = 100
)

// Parse reads a page's OpenGraph and Twitter card tags and its <title>,
// up to the end of its <head> (or the first element of its body). base is
// the page's URL, for relative image addresses.
func Parse(page []byte, base *url.URL) Meta {
	z := html.NewTokenizer(bytes.NewReader(page))
	var m Meta
	var title, ogTitle, twTitle, desc, ogDesc, twDesc, ogImage, twImage string
	inTitle := false
loop:
	for {
		switch z.Next() {
		case html.ErrorToken:
			break loop
		case html.TextToken:
			if inTitle && title == "" {
				title = string(z.Text())
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch atom.Lookup(name) {
			case atom.Title:
				inTitle = false
			case atom.Head:
				break loop
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			switch atom.Lookup(name) {
			case atom.Title:
				inTitle = true
			case atom.Body:
				break loop
			case atom.Meta:
				var prop, content string
				for hasAttr {
					var k, v []byte
					k, v, hasAttr = z.TagAttr()
					switch strings.ToLower(string(k)) {
					case "property", "name":
						prop = strings.ToLower(strings.TrimSpace(string(v)))
					case "content":
						content = string(v)
					}
				}
				set := func(dst *string) {
					if *dst == "" {
						*dst = content
					}
				}
				switch prop {
				case "og:title":
					set(&ogTitle)
				case "twitter:title":
					set(&twTitle)
				case "og:description":
					set(&ogDesc)
				case "twitter:description":
					set(&twDesc)
				case "description":
					set(&desc)
				case "og:site_name":
					set(&m.SiteName)
				case "og:image", "og:image:url", "og:image:secure_url":
					set(&ogImage)
				case "twitter:image", "twitter:image:src":
					set(&twImage)
				}
			}
		}
	}
	m.Title = clean(first(ogTitle, twTitle, title), maxTitle)
	m.Description = clean(first(ogDesc, twDesc, desc), maxDesc)
	m.SiteName = clean(m.SiteName, maxSite)
	if img := first(ogImage, twImage); img != "" && base != nil {
		if u, err := base.Parse(strings.TrimSpace(img)); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
			m.Image = u.String()
		}
	}
	return m
}

func first(s ...string) string {
	for _, x := range s {
		if strings.TrimSpace(x) != "" {
			return x
		}
	}
	return ""
}

var spaces = regexp.MustCompile(`\s+`)

// clean makes s one line of valid text of at most n characters.
func clean(s string, n int) string {
	s = strings.ToValidUTF8(s, "")
	s = strings.TrimSpace(spaces.ReplaceAllString(s, " "))
	if utf8.RuneCountInString(s) > n {
		s = string([]rune(s)[:n-1]) + "…"
	}
	return s
}

var (
	fence    = regexp.MustCompile("(?s)```.*?(```|$)")
	codeSpan = regexp.MustCompile("`[^`\n]*`")
	quoteLn  = regexp.MustCompile(`(?m)^\s*>.*$`)
	named    = regexp.MustCompile(`\[[^\[\]\n]{1,300}\]\((https?://[^\s()<>"'` + "`" + `]+)\)`)
	bare     = regexp.MustCompile(`(?i)\bhttps?://[^\s<>"'` + "`" + `]+[^\s<>"'` + "`" + `.,;:!?)\]}*_~]`)
)

// FirstLink is the first http(s) address of a message text, outside code
// and quotes, as the web app's formatting (web/app/markup.ts) shows it.
func FirstLink(text string) string {
	text = fence.ReplaceAllString(text, " ")
	text = codeSpan.ReplaceAllString(text, " ")
	text = quoteLn.ReplaceAllString(text, " ")
	bi := bare.FindStringIndex(text)
	ni := named.FindStringSubmatchIndex(text)
	switch {
	case ni != nil && (bi == nil || ni[0] <= bi[0]):
		return text[ni[2]:ni[3]]
	case bi != nil:
		return text[bi[0]:bi[1]]
	}
	return ""
}
