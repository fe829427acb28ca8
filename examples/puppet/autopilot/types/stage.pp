# What Autopilot accepts as a stage (p1, test): the environment id is "<customer>-<stage>".
type Autopilot::Stage = Pattern[/\A[a-z0-9]{1,16}\z/]
