package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"regexp"
	"strconv"
	"strings"

	"github.com/aymerick/raymond"
	"github.com/aymerick/raymond/lexer"
)

// maxTemplateBytes bounds a body template (SPEC-DECISIONS finding 40).
const maxTemplateBytes = 64 << 10

// Helpers the JSON rewrite of a template calls; the names cannot clash
// with anything a template may use, as templates cannot define helpers.
const (
	helperJSONValue  = "tallymarksJSONValue"
	helperJSONString = "tallymarksJSONString"
)

// sampleContext is the documented sample a webhook body is rendered
// against when saved: the context of SPEC section 8.
const sampleContext = `{
  "event": {
    "eventId": "0b7e5f3a-6a0e-4d8e-9a55-3c1d2b4e5f60",
    "customerId": "6f1d3c2a-8f47-4a8e-9d1c-2b7e5a9c0d11",
    "tenantId": "5c2b8e1d-3f4a-4b6c-8d7e-9f0a1b2c3d4e",
    "createdAt": "2026-03-01T12:00:00.000Z",
    "nameSpace": "Order.Web",
    "reference": "ORD-1001",
    "description": "Web order",
    "campaign": "spring",
    "attributes": [{"key": "channel", "value": "web"}],
    "order": {
      "total": 120.5, "taxTotal": 20.08, "shippingTotal": 4.95, "paymentAmount": 120.5,
      "currency": "EUR", "payment": {"bin": "411111", "bank": "Acme Bank", "scheme": "visa"},
      "items": [{"sku": "SKU-1", "name": "Mug", "category": "kitchen", "productType": "mug",
                 "vendor": "Acme", "quantity": 2, "unitPrice": 60.25, "total": 120.5}],
      "tags": ["gift"]
    }
  },
  "customer": {
    "customerId": "6f1d3c2a-8f47-4a8e-9d1c-2b7e5a9c0d11",
    "tenantId": "5c2b8e1d-3f4a-4b6c-8d7e-9f0a1b2c3d4e",
    "firstName": "Jane", "lastName": "Doe", "displayName": "Jane D.",
    "emailAddress": "jane@example.com", "isAccountLocked": false,
    "mobileNumber": "+4915112345678", "optinSms": true, "optinEmail": true,
    "acceptTerms": true, "dateOfBirth": "1990-04-01",
    "attributes": [{"key": "tier", "value": "gold"}],
    "createdAt": "2025-01-15T09:30:00.000Z", "changedAt": "2026-03-01T12:00:00.000Z",
    "contactPhone": null, "externalReference": "C-42", "externalStatus": "active"
  },
  "customerPointsBalance": {
    "amount": 240, "previousAmount": 120, "lifetimeEarned": 900,
    "level": {"id": "gold", "name": "Gold"}
  },
  "rule": {"id": "3e4f5a6b-7c8d-4e9f-8a0b-1c2d3e4f5a6b", "name": "Double points", "version": 3},
  "tenantId": "5c2b8e1d-3f4a-4b6c-8d7e-9f0a1b2c3d4e",
  "webhookId": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
  "deliveryId": "1f2e3d4c-5b6a-5978-8877-665544332211"
}`

// isJSONType reports whether a content type gets JSON rendering
// (SPEC-DECISIONS finding 25): application/json or any */*+json.
func isJSONType(mediaType string) bool {
	return mediaType == "application/json" || strings.HasSuffix(mediaType, "+json")
}

// checkTemplate validates a webhook body template and returns what is
// wrong with it, or "". Every template must parse as Handlebars without
// partials. For a JSON content type it must also yield valid JSON: a
// mustache outside a JSON string renders a JSON value, one inside a
// string renders escaped text. A template without blocks is checked for
// every possible context at once, with the line and column of the
// problem in the template; one with blocks ({{#if}}, {{#each}}) cannot be,
// and is rendered against the sample context instead.
func checkTemplate(src string, jsonBody bool) string {
	if len(src) > maxTemplateBytes {
		return "must be at most 65536 bytes"
	}
	toks := lexTokens(src)
	if last := toks[len(toks)-1]; last.Kind == lexer.TokenError {
		return "is not a valid Handlebars template: " + strings.ToLower(last.Val) + " at " + position(src, last.Pos)
	}
	if msg := checkBlocks(src, toks); msg != "" {
		return "is not a valid Handlebars template: " + msg
	}
	tpl, err := raymond.Parse(src)
	if err != nil {
		msg := "is not a valid Handlebars template: " + parseErrorText(err)
		if strings.Contains(err.Error(), "CloseUnescaped") {
			msg += ` (}}} closes a {{{triple-stash}}}: write "{{value}} }" to end an object)`
		}
		return msg
	}
	for _, t := range toks {
		if t.Kind == lexer.TokenOpenPartial {
			return "uses a partial at " + position(src, t.Pos) + ": partials are not supported"
		}
	}
	if !jsonBody {
		if _, err := safeExec(tpl); err != nil {
			return "cannot be rendered against the sample context: " + firstLine(err.Error())
		}
		return ""
	}

	m := scanMustaches(src, toks)
	if m.static {
		if msg := checkStaticJSON(src, m); msg != "" {
			return msg
		}
	}
	return checkRenderedJSON(src, m)
}

// checkBlocks checks that blocks open and close in pairs with matching
// names and that {{else}} stands inside one, with the position of the
// first problem.
//
// Besides a better message, it spares raymond.Parse the commonest parse
// errors: raymond abandons its lexer goroutine, blocked on an unbuffered
// channel, when parsing fails. Limitation: rarer syntax errors ({{a =}})
// still leak one goroutine and the template per failed save.
func checkBlocks(src string, toks []lexer.Token) string {
	type open struct {
		name string
		pos  int
	}
	var stack []open
	for i, t := range toks {
		switch t.Kind {
		case lexer.TokenOpenBlock, lexer.TokenOpenInverse, lexer.TokenOpenRawBlock:
			name, _, _ := strings.Cut(mustacheText(src, toks, i), " ")
			stack = append(stack, open{name: name, pos: t.Pos})
		case lexer.TokenOpenEndBlock, lexer.TokenOpenEndRawBlock:
			name := mustacheText(src, toks, i)
			switch {
			case len(stack) == 0:
				return "{{/" + name + "}} closes no block at " + position(src, t.Pos)
			case stack[len(stack)-1].name != name:
				top := stack[len(stack)-1]
				return "{{/" + name + "}} at " + position(src, t.Pos) + " does not close {{#" +
					top.name + "}} opened at " + position(src, top.pos)
			}
			stack = stack[:len(stack)-1]
		case lexer.TokenInverse, lexer.TokenOpenInverseChain:
			if len(stack) == 0 {
				return "{{else}} outside a block at " + position(src, t.Pos)
			}
		}
	}
	if len(stack) > 0 {
		top := stack[len(stack)-1]
		return "{{#" + top.name + "}} opened at " + position(src, top.pos) + " is not closed"
	}
	return ""
}

// mustacheText returns the trimmed source between the opening token at
// toks[i] and the closing token that follows it.
func mustacheText(src string, toks []lexer.Token, i int) string {
	start := toks[i].Pos + len(toks[i].Val)
	for _, t := range toks[i+1:] {
		switch t.Kind {
		case lexer.TokenClose, lexer.TokenCloseUnescaped, lexer.TokenCloseRawBlock:
			return strings.Trim(src[start:t.Pos], " \t\r\n~")
		}
	}
	return strings.TrimSpace(src[start:])
}

// lexTokens returns every token of src up to EOF or the first error. The
// lexer runs in a goroutine that ends only when its tokens are drained.
func lexTokens(src string) []lexer.Token {
	return lexer.Collect(src)
}

// mustache is one {{expression}} (or {{{expression}}}) that renders a
// value, with where it starts and ends in the source.
type mustache struct {
	start, end int  // source span, delimiters included
	exprStart  int  // first byte after the opening delimiter
	exprEnd    int  // first byte of the closing delimiter
	stripLeft  bool // {{~
	stripRight bool // ~}}
	inString   bool // inside a JSON string of the surrounding text
}

// mustacheScan is what scanMustaches found.
type mustacheScan struct {
	values   []mustache
	comments [][2]int // source spans of comments
	// static: no block, inverse or raw section, and every content token is
	// its source text, so that the source with its mustaches replaced is
	// the shape of every possible output.
	static bool
}

// scanMustaches finds the value mustaches of a template and, following
// the JSON text around them in source order, whether each stands inside a
// JSON string. Inside blocks the source order is an approximation, which
// the rendering check covers.
func scanMustaches(src string, toks []lexer.Token) mustacheScan {
	out := mustacheScan{static: true}
	var js jsonScanner
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch t.Kind {
		case lexer.TokenContent:
			if i+1 < len(toks) && src[t.Pos:toks[i+1].Pos] != t.Val {
				out.static = false // an escaped \{{ dropped its backslash
			}
			js.feed(t.Val)
		case lexer.TokenComment:
			out.comments = append(out.comments, [2]int{t.Pos, t.Pos + len(t.Val)})
		case lexer.TokenOpen, lexer.TokenOpenUnescaped:
			j := i + 1
			for j < len(toks) && toks[j].Kind != lexer.TokenClose && toks[j].Kind != lexer.TokenCloseUnescaped {
				j++
			}
			if j == len(toks) {
				return out // raymond.Parse accepted it, so this does not happen
			}
			c := toks[j]
			out.values = append(out.values, mustache{
				start: t.Pos, end: c.Pos + len(c.Val),
				exprStart: t.Pos + len(t.Val), exprEnd: c.Pos,
				stripLeft: strings.Contains(t.Val, "~"), stripRight: strings.Contains(c.Val, "~"),
				inString: js.inString,
			})
			i = j
		case lexer.TokenOpenBlock, lexer.TokenOpenEndBlock, lexer.TokenOpenInverse,
			lexer.TokenOpenInverseChain, lexer.TokenInverse, lexer.TokenOpenRawBlock:
			out.static = false
		}
	}
	return out
}

// jsonScanner follows JSON text far enough to know whether it is inside a
// string.
type jsonScanner struct {
	inString bool
	escaped  bool
}

func (s *jsonScanner) feed(text string) {
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case s.escaped:
			s.escaped = false
		case s.inString && c == '\\':
			s.escaped = true
		case c == '"':
			s.inString = !s.inString
		}
	}
}

// checkStaticJSON replaces, in a copy of the source of the same length,
// each mustache outside a string by the JSON value 0 and each inside a
// string by letters, and comments by spaces, then checks that the copy is
// JSON. Since a mustache renders a JSON value or escaped text, this holds
// for every context exactly when it holds for the copy, and an error's
// offset in the copy is its offset in the template.
func checkStaticJSON(src string, m mustacheScan) string {
	shape := []byte(src)
	fill := func(from, to int, c byte) {
		for i := from; i < to; i++ {
			shape[i] = c
		}
	}
	for _, c := range m.comments {
		fill(c[0], c[1], ' ')
	}
	for _, v := range m.values {
		if v.inString {
			fill(v.start, v.end, 'x')
		} else {
			fill(v.start, v.end, ' ')
			shape[v.start] = '0'
		}
	}
	var out any
	err := json.Unmarshal(shape, &out)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		at := max(int(se.Offset)-1, 0)
		return "does not yield valid JSON: " + se.Error() + " at " + position(src, at)
	}
	if err != nil {
		return "does not yield valid JSON"
	}
	return ""
}

// checkRenderedJSON renders the template against the sample context with
// JSON rendering and checks that the output is JSON.
func checkRenderedJSON(src string, m mustacheScan) string {
	tpl, err := raymond.Parse(rewriteForJSON(src, m))
	if err != nil {
		return "is not a valid Handlebars template: " + parseErrorText(err)
	}
	tpl.RegisterHelpers(map[string]any{
		helperJSONValue:  renderJSONValue,
		helperJSONString: renderJSONString,
	})
	out, err := safeExec(tpl)
	if err != nil {
		return "cannot be rendered against the sample context: " + firstLine(err.Error())
	}
	var v any
	err = json.Unmarshal([]byte(out), &v)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		at := max(int(se.Offset)-1, 0)
		return "does not yield valid JSON when rendered against the sample context: " +
			se.Error() + " at " + position(out, at) + " of the output"
	}
	if err != nil {
		return "does not yield valid JSON when rendered against the sample context"
	}
	return ""
}

// errTemplatePanic stands for a panic inside raymond.
var errTemplatePanic = errors.New("the template cannot be evaluated")

// safeExec renders tpl against the sample context. raymond re-panics
// runtime errors of its own helpers: {{#if a b}} dereferences nil. A
// template is outside input, so such a panic becomes an error here rather
// than a crashed request.
func safeExec(tpl *raymond.Template) (out string, err error) {
	defer func() {
		if recover() != nil {
			out, err = "", errTemplatePanic
		}
	}()
	return tpl.Exec(sample())
}

// rewriteForJSON turns each value mustache into a call of the JSON value
// or JSON string helper, which return text raymond does not escape. A
// triple-stash becomes a double-stash: in JSON both render alike.
func rewriteForJSON(src string, m mustacheScan) string {
	var b strings.Builder
	last := 0
	for _, v := range m.values {
		b.WriteString(src[last:v.start])
		b.WriteString("{{")
		if v.stripLeft {
			b.WriteString("~")
		}
		helper := helperJSONValue
		if v.inString {
			helper = helperJSONString
		}
		expr := strings.TrimSpace(src[v.exprStart:v.exprEnd])
		if strings.ContainsAny(expr, " \t\r\n") {
			expr = "(" + expr + ")" // a helper call with arguments
		}
		b.WriteString(helper + " " + expr)
		if v.stripRight {
			b.WriteString("~")
		}
		b.WriteString("}}")
		last = v.end
	}
	b.WriteString(src[last:])
	return b.String()
}

// renderJSONValue renders a value as a JSON literal: null when missing.
func renderJSONValue(v any) raymond.SafeString {
	b, err := marshalNoHTML(v)
	if err != nil {
		return "null"
	}
	return raymond.SafeString(b)
}

// renderJSONString renders a value as escaped text for inside a JSON
// string: a string as itself, anything else as its JSON text.
func renderJSONString(v any) raymond.SafeString {
	var text string
	switch x := v.(type) {
	case nil:
	case string:
		text = x
	default:
		b, err := marshalNoHTML(x)
		if err != nil {
			return ""
		}
		text = string(b)
	}
	b, err := marshalNoHTML(text)
	if err != nil {
		return ""
	}
	return raymond.SafeString(b[1 : len(b)-1])
}

func marshalNoHTML(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// sample returns a fresh copy of the sample context, numbers kept exact.
// The context is a constant that a test decodes; were it broken, templates
// would render against an empty context.
func sample() map[string]any {
	dec := json.NewDecoder(strings.NewReader(sampleContext))
	dec.UseNumber()
	m := map[string]any{}
	_ = dec.Decode(&m)
	return m
}

var parseLinePattern = regexp.MustCompile(`^Parse error on line (\d+):$`)

// parseErrorText turns raymond's parse error into a message without its
// token dump: "expecting OpenEndBlock, got: 'EOF' on line 3".
func parseErrorText(err error) string {
	lines := strings.Split(err.Error(), "\n")
	detail := "syntax error"
	if len(lines) > 1 && lines[1] != "" {
		detail = strings.ToLower(lines[1][:1]) + lines[1][1:]
	}
	if m := parseLinePattern.FindStringSubmatch(lines[0]); m != nil {
		return detail + " on line " + m[1]
	}
	return detail
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// position writes the 1-based line and column (in characters) of byte
// offset at in text.
func position(text string, at int) string {
	at = min(at, len(text))
	line, col := 1, 1
	for _, r := range text[:at] {
		if r == '\n' {
			line++
			col = 1
			continue
		}
		col++
	}
	return "line " + strconv.Itoa(line) + ", column " + strconv.Itoa(col)
}
