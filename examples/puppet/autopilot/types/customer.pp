# What Autopilot accepts as a customer id (abc): it becomes part of the environment id and of shell commands.
type Autopilot::Customer = Pattern[/\A[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?\z/]
