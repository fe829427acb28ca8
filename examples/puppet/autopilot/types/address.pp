# A host name or an IP address the Autopilot worker reaches the VM at.
type Autopilot::Address = Pattern[/\A(?:[A-Za-z0-9.-]{1,253}|\[?[0-9A-Fa-f:]{2,39}\]?)\z/]
