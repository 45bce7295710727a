package settings

import (
	"errors"
	"fmt"
	"net"
	"net/mail"
	"strconv"

	"github.com/prometheus/common/model"
)

// Keys of alert delivery: the local Alertmanager, its receivers and timing,
// and a central Alertmanager (fleet).
const (
	KeyAlerts               = "EDGE_ALERTS"
	KeyAlertsListen         = "EDGE_ALERTS_LISTEN"
	KeyAlertWebhookURL      = "EDGE_ALERT_WEBHOOK_URL"
	KeyAlertEmailTo         = "EDGE_ALERT_EMAIL_TO"
	KeyAlertSMTPSmarthost   = "EDGE_ALERT_SMTP_SMARTHOST"
	KeyAlertSMTPFrom        = "EDGE_ALERT_SMTP_FROM"
	KeyAlertSMTPUsername    = "EDGE_ALERT_SMTP_AUTH_USERNAME"
	KeyAlertSMTPPassword    = "EDGE_ALERT_SMTP_AUTH_PASSWORD_FILE"
	KeyAlertSMTPRequireTLS  = "EDGE_ALERT_SMTP_REQUIRE_TLS"
	KeyAlertTelegramToken   = "EDGE_ALERT_TELEGRAM_BOT_TOKEN_FILE"
	KeyAlertTelegramChatID  = "EDGE_ALERT_TELEGRAM_CHAT_ID"
	KeyAlertGroupWait       = "EDGE_ALERT_GROUP_WAIT"
	KeyAlertGroupInterval   = "EDGE_ALERT_GROUP_INTERVAL"
	KeyAlertRepeatInterval  = "EDGE_ALERT_REPEAT_INTERVAL"
	KeyAlertmanagerURL      = "EDGE_ALERTMANAGER_URL"
	KeyAlertmanagerUsername = "EDGE_ALERTMANAGER_USERNAME"
	KeyAlertmanagerPassword = "EDGE_ALERTMANAGER_PASSWORD_FILE"
	KeyAlertmanagerCAFile   = "EDGE_ALERTMANAGER_CA_FILE"
)

// Defaults of the alert settings: a group's first notification 30s after
// its first alert (alerts of one fault arrive together), further ones of
// the group at most every 5m, and a reminder of what still fires once a day:
// a person responsible for unattended devices acts within a day, and more
// mail than that for one fault is noise.
const (
	DefaultAlertsListen   = "127.0.0.1:9093"
	DefaultGroupWait      = "30s"
	DefaultGroupInterval  = "5m"
	DefaultRepeatInterval = "24h"
)

// Alerting is where the device's alerts go.
type Alerting struct {
	// Local: Prometheus sends its alerts to the local Alertmanager, which
	// listens on Listen (a loopback address) and runs only when Local.
	Local  bool
	Listen string
	Receivers
	// The route's timing, Prometheus duration strings.
	GroupWait, GroupInterval, RepeatInterval string
	// Central is an Alertmanager of the fleet that receives the device's
	// alerts too (URL empty: none).
	Central Central
}

// Receivers are the local Alertmanager's ways of reaching a person.
type Receivers struct {
	WebhookURL string
	// EmailTo is one address or a comma-separated list.
	EmailTo              string
	SMTPSmarthost        string // host:port
	SMTPFrom             string
	SMTPAuthUsername     string
	SMTPAuthPasswordFile string
	SMTPRequireTLS       bool
	TelegramBotTokenFile string
	TelegramChatID       int64
}

// Central is a central Alertmanager, reached the Prometheus way.
type Central struct {
	URL, Username, PasswordFile, CAFile string
}

// Any reports whether a receiver is configured.
func (r Receivers) Any() bool {
	return r.WebhookURL != "" || r.EmailTo != "" || r.TelegramBotTokenFile != ""
}

func defaultAlerting() Alerting {
	return Alerting{Listen: DefaultAlertsListen, GroupWait: DefaultGroupWait, GroupInterval: DefaultGroupInterval,
		RepeatInterval: DefaultRepeatInterval, Receivers: Receivers{SMTPRequireTLS: true}}
}

var alertSetters = map[string]func(s *Settings, v string) error{
	KeyAlerts:              func(s *Settings, v string) error { return onOff(v, &s.Alerting.Local) },
	KeyAlertsListen:        func(s *Settings, v string) error { return loopback(v, &s.Alerting.Listen) },
	KeyAlertWebhookURL:     func(s *Settings, v string) error { return receiverURL(v, &s.Alerting.WebhookURL) },
	KeyAlertEmailTo:        func(s *Settings, v string) error { return addresses(v, &s.Alerting.EmailTo) },
	KeyAlertSMTPSmarthost:  func(s *Settings, v string) error { return hostPort(v, &s.Alerting.SMTPSmarthost) },
	KeyAlertSMTPFrom:       func(s *Settings, v string) error { return address(v, &s.Alerting.SMTPFrom) },
	KeyAlertSMTPUsername:   func(s *Settings, v string) error { return label(v, &s.Alerting.SMTPAuthUsername) },
	KeyAlertSMTPPassword:   func(s *Settings, v string) error { return absPath(v, &s.Alerting.SMTPAuthPasswordFile) },
	KeyAlertSMTPRequireTLS: func(s *Settings, v string) error { return boolean(v, true, &s.Alerting.SMTPRequireTLS) },
	KeyAlertTelegramToken:  func(s *Settings, v string) error { return absPath(v, &s.Alerting.TelegramBotTokenFile) },
	KeyAlertTelegramChatID: func(s *Settings, v string) error { return chatID(v, &s.Alerting.TelegramChatID) },
	KeyAlertGroupWait:      func(s *Settings, v string) error { return duration(v, DefaultGroupWait, &s.Alerting.GroupWait) },
	KeyAlertGroupInterval: func(s *Settings, v string) error {
		return duration(v, DefaultGroupInterval, &s.Alerting.GroupInterval)
	},
	KeyAlertRepeatInterval: func(s *Settings, v string) error {
		return duration(v, DefaultRepeatInterval, &s.Alerting.RepeatInterval)
	},
	KeyAlertmanagerURL: func(s *Settings, v string) error {
		return urlWithoutCredentials(v, &s.Alerting.Central.URL, KeyAlertmanagerUsername, KeyAlertmanagerPassword)
	},
	KeyAlertmanagerUsername: func(s *Settings, v string) error { return label(v, &s.Alerting.Central.Username) },
	KeyAlertmanagerPassword: func(s *Settings, v string) error { return absPath(v, &s.Alerting.Central.PasswordFile) },
	KeyAlertmanagerCAFile:   func(s *Settings, v string) error { return absPath(v, &s.Alerting.Central.CAFile) },
}

// alertConflict checks the alert keys against each other (see conflict).
func (s *Settings) alertConflict() (key, msg string) {
	a := s.Alerting
	switch {
	case a.EmailTo != "" && (a.SMTPSmarthost == "" || a.SMTPFrom == ""):
		return KeyAlertEmailTo, "needs " + KeyAlertSMTPSmarthost + " and " + KeyAlertSMTPFrom
	case (a.SMTPAuthUsername == "") != (a.SMTPAuthPasswordFile == ""):
		if a.SMTPAuthUsername == "" {
			return KeyAlertSMTPPassword, "needs " + KeyAlertSMTPUsername
		}
		return KeyAlertSMTPUsername, "needs " + KeyAlertSMTPPassword
	case (a.TelegramBotTokenFile == "") != (a.TelegramChatID == 0):
		if a.TelegramBotTokenFile == "" {
			return KeyAlertTelegramChatID, "needs " + KeyAlertTelegramToken
		}
		return KeyAlertTelegramToken, "needs " + KeyAlertTelegramChatID
	case (a.Central.Username == "") != (a.Central.PasswordFile == ""):
		if a.Central.Username == "" {
			return KeyAlertmanagerPassword, "needs " + KeyAlertmanagerUsername
		}
		return KeyAlertmanagerUsername, "needs " + KeyAlertmanagerPassword
	case s.Profile == ProfileLean && a.Local:
		return KeyAlerts, "profile lean runs Prometheus in agent mode, which evaluates no alerts; evaluate them centrally"
	case s.Profile == ProfileLean && a.Central.URL != "":
		return KeyAlertmanagerURL, "profile lean runs Prometheus in agent mode, which evaluates no alerts; evaluate them centrally"
	}
	if d, _ := model.ParseDuration(a.RepeatInterval); d > 5*model.Duration(24*60*60*1e9) {
		// Alertmanager forgets what it sent after its --data.retention (120h):
		// past that it would notify again before the repeat interval.
		return KeyAlertRepeatInterval, "must not exceed 120h, how long Alertmanager keeps its notification log"
	}
	return "", ""
}

func onOff(v string, dst *bool) error {
	switch v {
	case "", "off":
		*dst = false
	case "on":
		*dst = true
	default:
		return fmt.Errorf("want on or off, got %q", v)
	}
	return nil
}

func boolean(v string, def bool, dst *bool) error {
	if v == "" {
		*dst = def
		return nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return fmt.Errorf("want true or false, got %q", v)
	}
	*dst = b
	return nil
}

// loopback accepts host:port with a loopback IP: the local Alertmanager
// has no authentication, and whoever reaches it can silence alerts.
func loopback(v string, dst *string) error {
	if v == "" {
		*dst = DefaultAlertsListen
		return nil
	}
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		return fmt.Errorf("want a loopback address and port like %s: %v", DefaultAlertsListen, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%q is not a loopback address: Alertmanager has no authentication here, and whoever reaches it can silence alerts", host)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return fmt.Errorf("invalid port %q", port)
	}
	*dst = v
	return nil
}

// receiverURL is an http(s) URL with a host; unlike a remote-write URL it
// may carry credentials, as webhook services put tokens in their URLs.
func receiverURL(v string, dst *string) error {
	if _, err := httpURL(v); err != nil {
		return err
	}
	*dst = v
	return nil
}

func addresses(v string, dst *string) error {
	if v != "" {
		list, err := mail.ParseAddressList(v)
		if err != nil {
			return fmt.Errorf("invalid e-mail address list %q: %v", v, err)
		}
		for _, a := range list {
			if a.Name != "" {
				return fmt.Errorf("want plain addresses (user@host), got %q", a.String())
			}
		}
	}
	*dst = v
	return nil
}

func address(v string, dst *string) error {
	if v != "" {
		if _, err := mail.ParseAddress(v); err != nil {
			return fmt.Errorf("invalid e-mail address %q: %v", v, err)
		}
	}
	*dst = v
	return nil
}

func hostPort(v string, dst *string) error {
	if v != "" {
		host, port, err := net.SplitHostPort(v)
		if err != nil || host == "" {
			return fmt.Errorf("want HOST:PORT, got %q", v)
		}
		if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
			return fmt.Errorf("invalid port in %q", v)
		}
	}
	*dst = v
	return nil
}

func chatID(v string, dst *int64) error {
	if v == "" {
		*dst = 0
		return nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id == 0 {
		return errors.New("want the chat's numeric id (negative for groups), as Telegram's getUpdates shows it")
	}
	*dst = id
	return nil
}

func duration(v, def string, dst *string) error {
	if v == "" {
		*dst = def
		return nil
	}
	d, err := model.ParseDuration(v)
	if err != nil || d <= 0 {
		return fmt.Errorf("want a positive duration like %s, got %q", def, v)
	}
	*dst = v
	return nil
}
