# An absolute path without spaces or shell characters: it is part of the exec commands.
type Autopilot::Path = Pattern[/\A\/[A-Za-z0-9._\/-]*\z/]
