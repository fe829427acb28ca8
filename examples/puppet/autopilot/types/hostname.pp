# An RFC 1123 host name (vm-17, web-1.example.com): what the VM reports to Dynatrace as.
type Autopilot::Hostname = Pattern[/\A(?=.{1,253}\z)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\z/]
