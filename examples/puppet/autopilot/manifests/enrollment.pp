# Enrolls this VM with OneAgent when its agent is missing or older than the version its environment
# was onboarded with (the Managed-at-scale article's per-run check). Declared by the `autopilot`
# class, after autopilot::onboarding: the environment (and so its version) must exist first.
#
# `autopilot agent-current` is the cheap part: it reads the installed version on this VM
# (oneagentctl --version, else <oneagent_dir>/agent/installer.version) and asks Temporal for the
# environment's; no installer is downloaded and Dynatrace is not called. Only when it exits non-zero
# does `autopilot enroll` run: the Autopilot worker installs or upgrades OneAgent on this VM (over
# SSH, or on its own machine with executor `local`) and waits until the host reports.
class autopilot::enrollment (
  Autopilot::Customer $customer,
  Autopilot::Stage $customer_stage,
  Autopilot::Hostname $host_name,
  Autopilot::Address $address,
  Autopilot::Path $autopilot,
  Array[String[1]] $exec_environment,
  Autopilot::Path $oneagent_dir            = '/opt/dynatrace/oneagent',
  Optional[Enum['ssh', 'local']] $executor = undef,
  Array[Autopilot::Path] $path             = ['/usr/local/bin', '/usr/bin', '/bin'],
  Integer[1] $wait_minutes                 = 30,
) {
  $environment_id = "${customer}-${customer_stage}"
  $executor_flag = $executor ? {
    undef   => '',
    default => " --executor ${executor}",
  }

  exec { "autopilot enroll ${host_name} into ${environment_id}":
    command     => "${autopilot} enroll --host ${host_name} --address ${address} --customer ${customer} --stage ${customer_stage} --install-path ${oneagent_dir}${executor_flag} --wait --timeout ${wait_minutes} --json",
    # Converged: OneAgent here is at least the environment's version (exit 0); otherwise enroll.
    unless      => "${autopilot} agent-current --customer ${customer} --stage ${customer_stage} --oneagent-dir ${oneagent_dir}",
    require     => Class['autopilot::onboarding'],
    environment => $exec_environment,
    path        => $path,
    timeout     => ($wait_minutes + 1) * 60,
    logoutput   => true,
  }
}
