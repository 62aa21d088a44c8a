package catalog

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"

	"golang.org/x/crypto/bcrypt"
)

// secretCost is bcrypt's work factor for API secrets: about 50 ms per
// check on one core, which is why the API caches successful checks.
const secretCost = 10

// NewSecret returns a random API secret: 32 bytes, base64url, prefixed so
// that secret scanners recognise it.
func NewSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating secret: %w", err)
	}
	return "tms_" + base64.RawURLEncoding.EncodeToString(b), nil
}

// NewKeyID returns a random public API key id.
func NewKeyID() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating key id: %w", err)
	}
	return "tmk_" + base64.RawURLEncoding.EncodeToString(b), nil
}

// HashSecret returns the slow hash stored in place of secret.
func HashSecret(secret string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(secret), secretCost)
	if err != nil {
		return "", fmt.Errorf("hashing secret: %w", err)
	}
	return string(h), nil
}

// CheckSecret reports whether secret matches a hash made by HashSecret.
func CheckSecret(hash, secret string) bool {
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(secret)) == nil
}
