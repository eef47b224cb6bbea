// Package password hashes and checks account passwords: argon2id encoded in
// the PHC string format, so that parameters can be raised later and old
// hashes upgraded at the next sign-in.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"appfactory/apperr"
)

// Params are argon2id's cost parameters.
type Params struct {
	// Memory is in KiB.
	Memory  uint32
	Time    uint32
	Threads uint8
}

// Current is what new hashes use: OWASP's recommended minimum for argon2id
// (19 MiB, two passes, one lane).
var Current = Params{Memory: 19 * 1024, Time: 2, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32
	// MinLength is the fewest characters a password may have.
	MinLength = 8
	// MaxBytes is the longest password accepted; longer input is refused
	// rather than truncated.
	MaxBytes = 1024
)

var b64 = base64.RawStdEncoding

// Hash returns the PHC string of pw with the current parameters and a fresh salt.
func Hash(pw string) (string, error) {
	return HashWith(pw, Current)
}

// HashWith hashes pw with the given parameters (tests and migrations).
func HashWith(pw string, p Params) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("salt: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify reports whether pw matches the encoded hash, and whether the hash
// should be replaced because its parameters are below Current.
func Verify(pw, encoded string) (ok, rehash bool, err error) {
	p, salt, key, err := Decode(encoded)
	if err != nil {
		return false, false, err
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	ok = subtle.ConstantTimeCompare(got, key) == 1
	return ok, ok && p.Below(Current), nil
}

// Below reports whether any parameter of p is weaker than of q.
func (p Params) Below(q Params) bool {
	return p.Memory < q.Memory || p.Time < q.Time || p.Threads < q.Threads
}

// Decode parses a PHC argon2id string:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<key> (unpadded standard base64).
func Decode(encoded string) (p Params, salt, key []byte, err error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, fmt.Errorf("not an argon2id hash")
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, fmt.Errorf("unsupported argon2 version %q", parts[2])
	}
	var seen int
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, found := strings.Cut(kv, "=")
		if !found {
			return p, nil, nil, fmt.Errorf("bad parameter %q", kv)
		}
		n, perr := strconv.ParseUint(v, 10, 32)
		if perr != nil {
			return p, nil, nil, fmt.Errorf("bad parameter %q", kv)
		}
		switch k {
		case "m":
			p.Memory, seen = uint32(n), seen|1
		case "t":
			p.Time, seen = uint32(n), seen|2
		case "p":
			if n > 255 {
				return p, nil, nil, fmt.Errorf("bad parameter %q", kv)
			}
			p.Threads, seen = uint8(n), seen|4
		default:
			return p, nil, nil, fmt.Errorf("unknown parameter %q", k)
		}
	}
	// Refuse parameters that are absurd either way: a stored hash must not be
	// able to make a sign-in allocate gigabytes or spin for minutes.
	if seen != 7 || p.Time < 1 || p.Time > 16 || p.Threads < 1 || p.Threads > 16 || p.Memory < 8*uint32(p.Threads) || p.Memory > 1<<20 {
		return p, nil, nil, fmt.Errorf("argon2id parameters out of range")
	}
	if salt, err = b64.DecodeString(parts[4]); err != nil || len(salt) < 8 || len(salt) > 64 {
		return p, nil, nil, fmt.Errorf("bad salt")
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || len(key) < 16 || len(key) > 128 {
		return p, nil, nil, fmt.Errorf("bad key")
	}
	return p, salt, key, nil
}

// Validate checks a new password against the rules: length, and not one of
// the most common passwords. The error names the field "password".
func Validate(pw string) error {
	if len(pw) > MaxBytes {
		return apperr.FieldError(apperr.Unprocessable, "password", "Use at most %d bytes.", MaxBytes)
	}
	if utf8.RuneCountInString(pw) < MinLength {
		return apperr.FieldError(apperr.Unprocessable, "password", "Use at least %d characters.", MinLength)
	}
	if IsCommon(pw) {
		return apperr.FieldError(apperr.Unprocessable, "password", "This password is too common; choose another.")
	}
	return nil
}
