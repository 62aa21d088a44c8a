package api

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/tallymarks/tallymarks/processors/catalog"
)

// Webhook limits and defaults (SPEC section 8, SPEC-DECISIONS finding 26).
const (
	maxWebhookURLBytes  = 2048
	maxWebhookHeaders   = 50
	maxWebhookTimeout   = 30 * time.Second
	defaultWebhookWait  = "10s"
	secretPrefix        = "whsec_"
	minSecretBytes      = 24
	maxSecretBytes      = 64
	generatedSecretSize = 32
	generateSecret      = "generate"
)

// maskedPassword is what url.URL.Redacted puts in place of a password. A
// URL sent back with it keeps the stored password.
const maskedPassword = "xxxxx"

// refusedHeaders may not be set on a webhook: the dispatcher sets them
// itself (finding 26), or they are hop-by-hop and mean nothing to the
// receiver.
var refusedHeaders = map[string]bool{
	"host": true, "content-length": true, "content-type": true,
	"connection": true, "keep-alive": true, "proxy-connection": true, "te": true,
	"trailer": true, "transfer-encoding": true, "upgrade": true,
}

// webhookRequest is a webhook as clients send it (SPEC section 8). The
// server fields and hasSecret are accepted and ignored, as economyRequest
// explains.
type webhookRequest struct {
	ID        any `json:"id"`
	Version   any `json:"version"`
	CreatedAt any `json:"createdAt"`
	ChangedAt any `json:"changedAt"`
	HasSecret any `json:"hasSecret"`

	Name         *string        `json:"name"`
	URL          *string        `json:"url"`
	Method       *string        `json:"method"`
	Headers      map[string]any `json:"headers"`
	BodyTemplate *string        `json:"bodyTemplate"`
	ContentType  *string        `json:"contentType"`
	Timeout      *string        `json:"timeout"`
	Secret       *string        `json:"secret"`
}

// webhookBody is the stored body of a webhook. The secret and the URL's
// password are stored as given, since the dispatcher needs them; the
// config topic's ACLs protect them.
type webhookBody struct {
	Name         string            `json:"name"`
	URL          string            `json:"url"`
	Method       string            `json:"method"`
	Headers      map[string]string `json:"headers"`
	BodyTemplate string            `json:"bodyTemplate"`
	ContentType  string            `json:"contentType"`
	Timeout      string            `json:"timeout"`
	Secret       string            `json:"secret,omitempty"`
}

// webhookView is what GET shows: hasSecret instead of the secret, and the
// URL's password masked.
type webhookView struct {
	Name         string            `json:"name"`
	URL          string            `json:"url"`
	Method       string            `json:"method"`
	Headers      map[string]string `json:"headers"`
	BodyTemplate string            `json:"bodyTemplate"`
	ContentType  string            `json:"contentType"`
	Timeout      string            `json:"timeout"`
	HasSecret    bool              `json:"hasSecret"`
}

// webhookDoc documents a webhook's fields for the OpenAPI document.
const webhookDoc = `{
	"name": {"type": "string"},
	"url": {"type": "string", "description": "http or https; a password shows as xxxxx."},
	"method": {"type": "string", "enum": ["POST", "PUT", "PATCH"]},
	"headers": {"type": "object", "additionalProperties": {"type": "string"}},
	"bodyTemplate": {"type": "string", "description": "Handlebars, at most 64 KiB."},
	"contentType": {"type": "string"},
	"timeout": {"type": "string", "description": "Go duration, at most 30s."},
	"hasSecret": {"type": "boolean"}
}`

// webhookSecretDoc documents the secret: sent, or shown once when generated.
const webhookSecretDoc = `{
	"secret": {"type": "string", "nullable": true,
		"description": "whsec_ and base64 of 24 to 64 bytes, or generate; shown only when generated."}
}`

func webhookKind() *adminKind {
	return &adminKind{
		plural: "webhooks", kind: catalog.KindWebhook, noun: "webhook",
		decode: decodeWebhook,
		view:   viewWebhook,
		inUse:  referringRules("webhookId"),
		doc: kindDoc{schema: "Webhook", fields: webhookDoc, inputOnly: webhookSecretDoc,
			revealed: webhookSecretDoc, required: []string{"name", "url", "bodyTemplate"}},
	}
}

func viewWebhook(body []byte) (json.RawMessage, error) {
	var b webhookBody
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, fmt.Errorf("decoding stored webhook: %w", err)
	}
	if b.Headers == nil {
		b.Headers = map[string]string{}
	}
	return json.Marshal(webhookView{
		Name: b.Name, URL: maskURL(b.URL), Method: b.Method, Headers: b.Headers,
		BodyTemplate: b.BodyTemplate, ContentType: b.ContentType, Timeout: b.Timeout,
		HasSecret: b.Secret != "",
	})
}

// maskURL hides a URL's password.
func maskURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	return u.Redacted()
}

// decodeWebhook validates a webhook document. A document without secret
// keeps the stored one; "secret": null removes it; "generate" makes one,
// which the answer shows once.
func decodeWebhook(in *decodeInput) (*decoded, []FieldError) {
	var req webhookRequest
	structural, ok := decodeDocument(in.doc, &req)
	if !ok {
		return nil, structural
	}
	var prev webhookBody
	if in.prev != nil {
		if err := json.Unmarshal([]byte(in.prev.Body), &prev); err != nil {
			return nil, []FieldError{{Param: "", Message: "the stored webhook cannot be read; replace it"}}
		}
	}
	v := &validator{}
	b := webhookBody{
		Name:    v.requiredName("/name", req.Name),
		Method:  v.enum("/method", req.Method, "POST", "POST", "PUT", "PATCH"),
		Timeout: v.webhookTimeout(req.Timeout),
	}
	var hasCreds bool
	b.URL, hasCreds = v.webhookURL(req.URL, prev.URL)
	b.Headers = v.webhookHeaders(req.Headers, hasCreds)
	contentType, jsonBody := v.contentType(req.ContentType)
	b.ContentType = contentType
	if req.BodyTemplate == nil {
		v.add("/bodyTemplate", "is required", nil)
	} else {
		if msg := checkTemplate(*req.BodyTemplate, jsonBody); msg != "" {
			v.add("/bodyTemplate", msg, nil)
		}
		b.BodyTemplate = *req.BodyTemplate
	}

	d := &decoded{body: &b}
	switch {
	case req.Secret == nil && in.nulls["secret"]:
	case req.Secret == nil:
		b.Secret = prev.Secret
	case *req.Secret == generateSecret:
		s, err := newWebhookSecret()
		if err != nil {
			v.add("/secret", "could not be generated; try again", nil)
			break
		}
		b.Secret = s
		d.reveal = map[string]string{"secret": s}
	default:
		b.Secret = v.webhookSecret(*req.Secret)
	}
	return d, mergeFieldErrors(structural, v.errs)
}

// webhookURL checks an absolute http or https URL. A password given as
// the mask that GET shows is replaced by the stored one.
func (v *validator) webhookURL(s *string, prevURL string) (string, bool) {
	const param = "/url"
	if s == nil {
		v.add(param, "is required", nil)
		return "", false
	}
	u, err := url.Parse(*s)
	switch {
	case len(*s) > maxWebhookURLBytes:
		v.add(param, "must be at most 2048 bytes", nil)
		return "", false
	case err != nil || u.Opaque != "" || u.Host == "" || u.Hostname() == "":
		v.add(param, "must be an absolute http or https URL", maskURL(*s))
		return "", false
	case u.Scheme != "http" && u.Scheme != "https":
		v.add(param, "must use http or https", u.Scheme)
		return "", false
	}
	if pw, ok := u.User.Password(); ok && pw == maskedPassword {
		old, err := url.Parse(prevURL)
		oldPW, hasOld := "", false
		if err == nil && old.User != nil && old.User.Username() == u.User.Username() {
			oldPW, hasOld = old.User.Password()
		}
		if !hasOld {
			v.add(param, "carries the masked password "+maskedPassword+": send the real one", nil)
			return "", false
		}
		u.User = url.UserPassword(u.User.Username(), oldPW)
	}
	return u.String(), u.User != nil
}

// webhookHeaders checks the extra request headers. Names are HTTP tokens,
// unique ignoring case; values are strings without line breaks.
func (v *validator) webhookHeaders(in map[string]any, urlHasCreds bool) map[string]string {
	out := map[string]string{}
	if len(in) > maxWebhookHeaders {
		v.add("/headers", "must have at most 50 headers", nil)
		return out
	}
	names := make([]string, 0, len(in))
	for name := range in {
		names = append(names, name)
	}
	sort.Strings(names) // report problems in a stable order
	seen := map[string]string{}
	for _, name := range names {
		p := "/headers/" + escapePointer(name)
		lower := strings.ToLower(name)
		val, isString := in[name].(string)
		switch {
		case !isHTTPToken(name):
			v.add(p, "is not a valid header name", name)
		case refusedHeaders[lower] || strings.HasPrefix(lower, "webhook-"):
			v.add(p, "is set by TallyMarks and cannot be configured", name)
		case lower == "authorization" && urlHasCreds:
			v.add(p, "conflicts with the credentials in the URL", name)
		case seen[lower] != "":
			v.add(p, "repeats header "+seen[lower]+" in another case", name)
		case !isString:
			v.add(p, "must be a string", nil)
		case len(val) > maxStringBytes:
			v.add(p, "must be at most 1024 bytes", nil)
		case strings.ContainsAny(val, "\r\n\x00"):
			v.add(p, "must not contain line breaks or NUL", nil)
		default:
			out[name] = val
		}
		seen[lower] = name
	}
	return out
}

// isHTTPToken reports whether s is an HTTP token (RFC 9110), as header
// names are.
func isHTTPToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// contentType checks the body's media type, default application/json, and
// reports whether it is JSON.
func (v *validator) contentType(s *string) (string, bool) {
	if s == nil {
		return "application/json", true
	}
	mt, _, err := mime.ParseMediaType(*s)
	if err != nil || !strings.Contains(mt, "/") || len(*s) > maxNameBytes {
		v.add("/contentType", "must be a media type such as application/json", *s)
		return "", false
	}
	return *s, isJSONType(mt)
}

// webhookTimeout checks a Go duration above 0 and at most 30 s.
func (v *validator) webhookTimeout(s *string) string {
	if s == nil {
		return defaultWebhookWait
	}
	d, err := time.ParseDuration(*s)
	if err != nil || d <= 0 || d > maxWebhookTimeout {
		v.add("/timeout", "must be a duration above 0 and at most 30s, such as 10s or 2500ms", *s)
		return ""
	}
	return *s
}

// webhookSecret checks a Standard Webhooks secret: whsec_ and the base64
// of 24 to 64 bytes, which are the HMAC key. The value is never echoed.
func (v *validator) webhookSecret(s string) string {
	const msg = `must be "generate" or whsec_ followed by the base64 of 24 to 64 random bytes`
	raw, ok := strings.CutPrefix(s, secretPrefix)
	if !ok {
		v.add("/secret", msg, nil)
		return ""
	}
	key, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		key, err = base64.RawStdEncoding.DecodeString(raw)
	}
	if err != nil || len(key) < minSecretBytes || len(key) > maxSecretBytes {
		v.add("/secret", msg, nil)
		return ""
	}
	return s
}

func newWebhookSecret() (string, error) {
	b := make([]byte, generatedSecretSize)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating webhook secret: %w", err)
	}
	return secretPrefix + base64.StdEncoding.EncodeToString(b), nil
}
