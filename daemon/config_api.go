package daemon

import (
	"fmt"
	"time"
)

func defaultAPIConfig() APIConfig {
	return APIConfig{
		Address:           "127.0.0.1:5180",
		AddRoots:          []string{},
		ReadHeaderTimeout: "10s",
		ReadTimeout:       "30s",
		IdleTimeout:       "2m",
		MaxConnections:    256,
	}
}

// httpLimits are the parsed bounds of the HTTP server.
type httpLimits struct {
	readHeader, read, idle time.Duration
	maxConns               int
}

func (a APIConfig) validate() error {
	if err := checkLoopback(a.Address); err != nil {
		return fmt.Errorf("address: %w", err)
	}
	_, err := a.limits()
	return err
}

// limits parses the server's bounds: every timeout at least 1ms (the
// daemon has no unbounded mode: a zero would let one client hold a
// connection forever), at most a day.
func (a APIConfig) limits() (httpLimits, error) {
	var l httpLimits
	for _, d := range []struct {
		key string
		s   string
		to  *time.Duration
	}{
		{"read_header_timeout", a.ReadHeaderTimeout, &l.readHeader},
		{"read_timeout", a.ReadTimeout, &l.read},
		{"idle_timeout", a.IdleTimeout, &l.idle},
	} {
		v, err := time.ParseDuration(d.s)
		if err != nil || v < time.Millisecond || v > 24*time.Hour {
			return httpLimits{}, fmt.Errorf("%s %q: want a duration from 1ms to 24h, e.g. \"10s\"", d.key, d.s)
		}
		*d.to = v
	}
	if a.MaxConnections < 1 || a.MaxConnections > 1<<20 {
		return httpLimits{}, fmt.Errorf("max_connections %d: want 1 to 1048576", a.MaxConnections)
	}
	l.maxConns = a.MaxConnections
	return l, nil
}
