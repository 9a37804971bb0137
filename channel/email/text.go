package email

import (
	"html"
	"regexp"
	"strings"
	"unicode"
)

// maxQuoteDepth bounds the "> " marks of a line of quoted HTML.
const maxQuoteDepth = 8

// htmlToText turns an HTML body into plain text, crudely but safely: the
// output is only ever shown as text. Tags go, blocks become lines, list
// items "- ", quoted blocks "> " (so that cutQuote finds them), links keep
// their address, and entities are decoded. Scripts, styles and the head
// are dropped whole.
func htmlToText(s string) string {
	var b strings.Builder
	quote := 0           // depth of <blockquote>
	lineStart := true    // nothing written on the current line yet
	skip := ""           // the element whose content is dropped
	href, since := "", 0 // the open link and where its text began
	newline := func(blank bool) {
		if !lineStart {
			b.WriteByte('\n')
			lineStart = true
		}
		if blank {
			b.WriteByte('\n')
		}
	}
	emit := func(t string) {
		if lineStart {
			t = strings.TrimLeft(t, " ")
			if t == "" {
				return
			}
			// Deeper quotes are marked as deep as this: the prefix on
			// every line must not multiply the text (a mail of nested
			// <blockquote>s and line breaks made gigabytes).
			b.WriteString(strings.Repeat("> ", min(quote, maxQuoteDepth)))
			lineStart = false
		}
		b.WriteString(t)
	}
	for i := 0; i < len(s); {
		if s[i] != '<' {
			j := strings.IndexByte(s[i:], '<')
			if j < 0 {
				j = len(s) - i
			}
			if skip == "" {
				emit(collapse(html.UnescapeString(s[i : i+j])))
			}
			i += j
			continue
		}
		if strings.HasPrefix(s[i:], "<!--") {
			end := strings.Index(s[i+4:], "-->")
			if end < 0 {
				break
			}
			i += 4 + end + 3
			continue
		}
		end := strings.IndexByte(s[i:], '>')
		if end < 0 {
			break // an unterminated tag: the rest is not text
		}
		tag := s[i+1 : i+end]
		i += end + 1
		name, closing := tagName(tag)
		if skip != "" {
			if closing && name == skip {
				skip = ""
			}
			continue
		}
		switch name {
		case "script", "style", "head", "title", "template", "noscript":
			if !closing && !strings.HasSuffix(tag, "/") {
				skip = name
			}
		case "br":
			b.WriteByte('\n')
			lineStart = true
		case "p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "pre", "hr":
			newline(closing || name == "hr")
		case "div", "tr", "section", "article", "header", "footer", "dd", "dt":
			newline(false)
		case "li":
			newline(false)
			if !closing {
				emit("- ")
			}
		case "blockquote":
			newline(false)
			if closing {
				quote = max(quote-1, 0)
			} else {
				quote++
			}
		case "td", "th":
			if closing {
				emit(" ")
			}
		case "a":
			if !closing {
				href, since = attr(tag, "href"), b.Len()
				continue
			}
			text := b.String()[min(since, b.Len()):]
			if (strings.HasPrefix(href, "http://") || strings.HasPrefix(href, "https://")) && !strings.Contains(text, href) {
				emit(" <" + href + ">")
			}
			href = ""
		}
	}
	return tidy(b.String())
}

// tagName is a tag's lowercased name and whether it closes an element.
func tagName(tag string) (string, bool) {
	closing := strings.HasPrefix(tag, "/")
	tag = strings.TrimPrefix(tag, "/")
	end := strings.IndexFunc(tag, func(r rune) bool { return unicode.IsSpace(r) || r == '/' })
	if end >= 0 {
		tag = tag[:end]
	}
	return strings.ToLower(tag), closing
}

var attrRe = map[string]*regexp.Regexp{"href": regexp.MustCompile(`(?is)\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))`)}

// attr is an attribute's decoded value ("" when absent).
func attr(tag, name string) string {
	m := attrRe[name].FindStringSubmatch(tag)
	if m == nil {
		return ""
	}
	return strings.TrimSpace(html.UnescapeString(m[1] + m[2] + m[3]))
}

// collapse folds runs of white space (HTML's line breaks among them) into
// one space.
func collapse(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) { // includes U+00A0
			space = true
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	if space {
		b.WriteByte(' ')
	}
	return b.String()
}

// tidy trims lines' trailing spaces and keeps at most one blank line in a
// row.
func tidy(s string) string {
	lines := strings.Split(s, "\n")
	out := lines[:0]
	blank := 0
	for _, l := range lines {
		l = strings.TrimRightFunc(l, unicode.IsSpace)
		if l == "" {
			blank++
			if blank > 1 {
				continue
			}
		} else {
			blank = 0
		}
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

// unflow undoes format=flowed (RFC 3676): a line ending in a space goes on
// in the next one; delsp drops that space.
func unflow(s string, delsp bool) string {
	var out []string
	var cur strings.Builder
	for _, l := range strings.Split(s, "\n") {
		if l == "-- " { // the signature separator is never flowed
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
			out = append(out, l)
			continue
		}
		if strings.HasPrefix(l, " ") {
			l = l[1:] // space-stuffed
		}
		if strings.HasSuffix(l, " ") {
			if delsp {
				l = l[:len(l)-1]
			}
			cur.WriteString(l)
			continue
		}
		cur.WriteString(l)
		out = append(out, cur.String())
		cur.Reset()
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return strings.Join(out, "\n")
}

// Quoted history starts at an attribution line ("On Mon, 1 Jan 2024,
// Ann <ann@example.com> wrote:", in a few languages, with a date in it), Outlook's
// "-----Original Message-----" or its "From:/Sent:" block, or a trailing
// run of "> " lines.
var (
	attribution = regexp.MustCompile(`(?i)^(on|am|le|el|op|il|em|den|dne|w dniu)\s.*\d.*(wrote|schrieb|a écrit|escribió|schreef|ha scritto|escreveu|skrev|napsal|napisał).*:$`)
	ruWrote     = regexp.MustCompile(`(?i)(пишет|написал|написала)\s*:$`)
	original    = regexp.MustCompile(`(?i)^-{2,}\s*(original message|ursprüngliche nachricht|message d'origine|mensaje original)\s*-{2,}$`)
	outlookFrom = regexp.MustCompile(`(?i)^\*?(from|von|de|od|от)\s*:\*?\s`)
	outlookSent = regexp.MustCompile(`(?i)^\*?(sent|date|gesendet|envoyé|enviado|wysłano|отправлено)\s*:\*?\s`)
)

// cutQuote removes the quoted history below a reply. Interleaved answers
// ("> question" then an answer, more than once) are kept whole, and so is
// a message that would be left empty.
func cutQuote(text string) string {
	lines := strings.Split(text, "\n")
	// quotedFrom[i]: every non-blank line from i on is quoted. Worked out
	// once, from the end: asked of each line in turn it took quadratic
	// time (a mail of 40,000 "> " lines took 17 s).
	quotedFrom := make([]bool, len(lines)+1)
	quotedFrom[len(lines)] = true
	for i := len(lines) - 1; i >= 0; i-- {
		t := strings.TrimSpace(lines[i])
		quotedFrom[i] = quotedFrom[i+1] && (t == "" || strings.HasPrefix(t, ">"))
	}
	cut := -1
	for i := 0; i < len(lines) && cut < 0; i++ {
		t := strings.TrimSpace(lines[i])
		next := ""
		if i+1 < len(lines) {
			next = strings.TrimSpace(lines[i+1])
		}
		switch {
		case original.MatchString(t), attribution.MatchString(t), ruWrote.MatchString(t):
			cut = i
		case strings.HasPrefix(strings.ToLower(t), "on ") && attribution.MatchString(t+" "+next):
			cut = i // the attribution wrapped onto two lines
		case len(t) >= 10 && strings.Trim(t, "_") == "" && outlookFrom.MatchString(next):
			cut = i
		case outlookFrom.MatchString(t) && outlookBlock(lines[i+1:]):
			cut = i
		case strings.HasPrefix(t, ">") && quotedFrom[i]:
			cut = i
		}
	}
	if cut < 0 {
		return text
	}
	head := strings.TrimRightFunc(strings.Join(lines[:cut], "\n"), unicode.IsSpace)
	if strings.TrimSpace(head) == "" {
		return text
	}
	return head
}

// outlookBlock reports whether lines begin like the rest of Outlook's
// quoted header: a Sent: or Date: line soon after From:.
func outlookBlock(lines []string) bool {
	for i := 0; i < len(lines) && i < 4; i++ {
		if outlookSent.MatchString(strings.TrimSpace(lines[i])) {
			return true
		}
	}
	return false
}
