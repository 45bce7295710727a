package main

import (
	"context"
	"encoding/json"
	"io"
	"time"

	"github.com/edgeobs/edge-observability-stack/internal/alerts"
	"github.com/edgeobs/edge-observability-stack/internal/apply"
	"github.com/edgeobs/edge-observability-stack/internal/exitcode"
	"github.com/edgeobs/edge-observability-stack/internal/settings"
)

const alertsUsage = `usage: edgectl alerts enable [--webhook URL]
                            [--email ADDRESS --smtp HOST:PORT --smtp-from ADDRESS
                             [--smtp-auth-username U --smtp-auth-password-file F] [--smtp-require-tls=false]]
                            [--telegram-bot-token-file F --telegram-chat-id ID]
                            [--group-wait D] [--group-interval D] [--repeat-interval D]
       edgectl alerts disable
       edgectl alerts status [--json]
       edgectl alerts test [--timeout D]
common flags: --defaults F --config.in F --machine-id F --alertmanager.config.in F

Delivers the device's alerts through the local Alertmanager (package
prometheus-alertmanager). enable: the receivers given replace the previous
ones (none given: keep them); the configuration is checked with amtool before
anything is written. Exit status: 0 done, 1 failed (nothing changed), 2 usage
error.`

// alertsCmd is one run of "edgectl alerts SUB".
type alertsCmd struct {
	*cmdLine
	in renderFiles
	alerts.Alerts
	amtool string
}

func runAlerts(args []string, stdout, stderr io.Writer) int {
	return alertsCommand(args, stdout, stderr, hostSystemd{}, hostJournal{})
}

// alertsCommand is runAlerts with the service manager and journal to use.
func alertsCommand(args []string, stdout, stderr io.Writer, services apply.ServiceManager, journal alerts.Journal) int {
	sub, args, code, ok := subcommand("alerts", alertsUsage, args, stdout, stderr)
	if !ok {
		return code
	}
	c := &alertsCmd{cmdLine: newCmdLine("alerts "+sub, stdout, stderr)}
	c.in.register(c.cmdLine)
	c.StringVar(&c.ConfigIn, "alertmanager.config.in", alerts.DefaultConfigIn, "user Alertmanager configuration")
	c.Alerts.Applier = apply.Applier{Services: services, Stdout: stdout, Stderr: stderr}
	switch sub {
	case "enable":
		return c.enable(args)
	case "disable":
		return c.disable(args)
	case "status":
		return c.status(args)
	}
	return c.test(args, journal)
}

// receiverFlags are the flags of enable that describe the receivers, by key.
var receiverFlags = []struct{ key, name, usage string }{
	{settings.KeyAlertWebhookURL, "webhook", "URL that receives Alertmanager's webhook (JSON) notifications"},
	{settings.KeyAlertEmailTo, "email", "address(es) to mail, comma-separated"},
	{settings.KeyAlertSMTPSmarthost, "smtp", "SMTP server HOST:PORT for --email"},
	{settings.KeyAlertSMTPFrom, "smtp-from", "sender address of the mails"},
	{settings.KeyAlertSMTPUsername, "smtp-auth-username", "SMTP user"},
	{settings.KeyAlertSMTPPassword, "smtp-auth-password-file", "file (mode 0600) holding the SMTP password"},
	{settings.KeyAlertSMTPRequireTLS, "smtp-require-tls", "require STARTTLS (true or false; default true)"},
	{settings.KeyAlertTelegramToken, "telegram-bot-token-file", "file (mode 0600) holding the Telegram bot's token"},
	{settings.KeyAlertTelegramChatID, "telegram-chat-id", "Telegram chat to send to (numeric id)"},
}

func (c *alertsCmd) register() {
	c.StringVar(&c.DropInDir, "dropin-dir", alerts.DefaultDropInDir, "local drop-in directory of "+alerts.Unit)
	c.StringVar(&c.Binary, "alertmanager", alerts.DefaultBinary, "Alertmanager binary (must be installed)")
	c.StringVar(&c.amtool, "amtool", defaultAmtool, "amtool binary that checks the configuration")
}

func (c *alertsCmd) enable(args []string) int {
	c.register()
	given := map[string]*string{}
	for _, f := range receiverFlags {
		given[f.key] = c.String(f.name, "", f.usage)
	}
	timing := map[string]*string{
		settings.KeyAlertGroupWait:      c.String("group-wait", "", "wait before a group's first notification (default 30s)"),
		settings.KeyAlertGroupInterval:  c.String("group-interval", "", "wait between notifications of a group (default 5m)"),
		settings.KeyAlertRepeatInterval: c.String("repeat-interval", "", "remind of what still fires after (default 24h)"),
	}
	if code, ok := c.parseNoArgs(args); !ok {
		return code
	}
	c.in.applyTo(&c.Applier)
	c.Amtool = hostAmtool{c.amtool}
	set := map[string]string{}
	if flagGiven(c.FlagSet, "webhook") || flagGiven(c.FlagSet, "email") || flagGiven(c.FlagSet, "telegram-bot-token-file") {
		// The receivers given replace the previous ones.
		for _, f := range receiverFlags {
			set[f.key] = *given[f.key]
		}
	} else if flagGiven(c.FlagSet, "smtp") || flagGiven(c.FlagSet, "telegram-chat-id") {
		return c.usageError("--smtp and --telegram-chat-id belong to --email and --telegram-bot-token-file")
	}
	for k, v := range timing {
		if *v != "" {
			set[k] = *v
		}
	}
	if err := c.Enable(set); err != nil {
		return c.fail(err)
	}
	return exitcode.OK
}

func (c *alertsCmd) disable(args []string) int {
	c.register()
	if code, ok := c.parseNoArgs(args); !ok {
		return code
	}
	c.in.applyTo(&c.Applier)
	if err := c.Disable(); err != nil {
		return c.fail(err)
	}
	return exitcode.OK
}

func (c *alertsCmd) status(args []string) int {
	asJSON := c.Bool("json", false, "print the report as JSON")
	promURL := c.String("prometheus.url", "http://127.0.0.1:9090", "base URL of Prometheus (its notifier counters and the history of deliveries); empty skips it")
	timeout := c.Duration("timeout", 15*time.Second, "overall time limit")
	if code, ok := c.parseNoArgs(args); !ok {
		return code
	}
	s, err := settings.Load(c.in.settings)
	if err != nil {
		return c.fail(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	r := alerts.Status(ctx, alerts.StatusInput{Settings: s, PrometheusURL: *promURL})
	if *asJSON {
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(r)
	} else {
		err = alerts.WriteText(c.stdout, r, time.Now())
	}
	if err != nil {
		return c.fail(err)
	}
	return r.ExitCode
}

func (c *alertsCmd) test(args []string, journal alerts.Journal) int {
	timeout := c.Duration("timeout", 2*time.Minute, "how long to wait for the receivers to accept the test alert")
	if code, ok := c.parseNoArgs(args); !ok {
		return code
	}
	if *timeout <= 0 {
		return c.usageError("--timeout must be positive")
	}
	s, err := settings.Load(c.in.settings)
	if err != nil {
		return c.fail(err)
	}
	device, _, err := s.Device(c.in.machineID)
	if err != nil {
		return c.fail(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout+30*time.Second)
	defer cancel()
	err = alerts.Test(ctx, alerts.TestInput{Settings: s, Device: device, Timeout: *timeout, Poll: time.Second,
		Journal: journal, Out: c.stdout})
	if err != nil {
		return c.fail(err)
	}
	return exitcode.OK
}
