package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Config is what login stores: the portal and the token to call it with.
type Config struct {
	URL   string `json:"url"`
	Token string `json:"token"`
}

// configPath is os.UserConfigDir()/appfactory/config.json.
func configPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no configuration directory: %w (set XDG_CONFIG_HOME or HOME)", err)
	}
	return filepath.Join(dir, "appfactory", "config.json"), nil
}

var errNotLoggedIn = errors.New("not logged in: run appfactory login --url URL --token TOKEN")

// loadConfig reads the stored login; APPFACTORY_URL and APPFACTORY_TOKEN,
// when set, win over it (for scripts).
func loadConfig() (Config, error) {
	var c Config
	path, err := configPath()
	if err != nil {
		return c, err
	}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return c, fmt.Errorf("read %s: %w", path, err)
	default:
		if err := json.Unmarshal(b, &c); err != nil {
			return c, fmt.Errorf("%s is not valid JSON (%v): run appfactory login again", path, err)
		}
	}
	if v := os.Getenv("APPFACTORY_URL"); v != "" {
		c.URL = v
	}
	if v := os.Getenv("APPFACTORY_TOKEN"); v != "" {
		c.Token = v
	}
	if c.URL == "" || c.Token == "" {
		return c, errNotLoggedIn
	}
	return c, nil
}

// saveConfig writes the login readable by its owner only (dir 0700, file
// 0600), replacing the old file in one rename.
func saveConfig(c Config) (string, error) {
	path, err := configPath()
	if err != nil {
		return "", err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create %s: %w", dir, err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return "", err
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(dir, "config-*.json")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return "", err
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	return path, os.Rename(tmp.Name(), path)
}
