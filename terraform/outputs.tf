locals {
  # An example body: what the default schedules send (the target compartment + the target tags).
  example_body = jsonencode({
    compartment_id = local.target_compartment_id
    freeform_tags  = var.target_freeform_tags
  })
}

output "application_id" {
  description = "OCID of the Functions application."
  value       = oci_functions_application.this.id
}

output "application_name" {
  description = "Name of the Functions application (FN_APP for scripts/deploy.sh and scripts/invoke.sh)."
  value       = oci_functions_application.this.display_name
}

output "start_function_id" {
  description = "OCID of start-compute (START_FUNCTION_ID for scripts/invoke.sh); null until scripts/deploy.sh has pushed the images."
  value       = lookup(local.function_ids, "start", null)
}

output "stop_function_id" {
  description = "OCID of stop-compute (STOP_FUNCTION_ID for scripts/invoke.sh); null until scripts/deploy.sh has pushed the images."
  value       = lookup(local.function_ids, "stop", null)
}

output "target_instance_ids" {
  description = "OCIDs of the target instances created here (empty when target_instance_count = 0)."
  value       = oci_core_instance.target[*].id
}

locals {
  # The management instance exists once the functions do (local.management_count).
  management = one(oci_core_instance.management)
}

output "management_instance_id" {
  description = "OCID of the management instance (null until it exists: the apply after scripts/deploy.sh)."
  value       = local.management == null ? null : local.management.id
}

output "management_public_ip" {
  description = "Public IP of the management instance (null without management_assign_public_ip, or before it exists)."
  value       = var.management_assign_public_ip && local.management != null ? local.management.public_ip : null
}

output "management_private_ip" {
  description = "Private IP of the management instance (null until it exists)."
  value       = local.management == null ? null : local.management.private_ip
}

output "ssh_command" {
  description = "SSH to the management instance (only from ssh_ingress_cidr)."
  value = (var.ssh_ingress_cidr == null ? "SSH is closed (ssh_ingress_cidr is null)" :
    local.management == null ? "No management instance yet: run scripts/deploy.sh, then terraform apply" :
  "ssh opc@${var.management_assign_public_ip ? local.management.public_ip : local.management.private_ip}")
}

output "fn_registry" {
  description = "Registry for the Fn context: fn update context registry <this>; then scripts/deploy.sh pushes <this>/<function>:<version>."
  value       = local.fn_registry
}

output "fn_invoke_commands" {
  description = "Invoke each function with the Fn CLI (body on standard input); empty until the functions exist."
  value = {
    for k, f in local.deployed_functions : k => "echo '${local.example_body}' | fn invoke ${oci_functions_application.this.display_name} ${f.name}"
  }
}

output "oci_invoke_commands" {
  description = "Invoke each function with the OCI CLI, as the schedules do (add --auth instance_principal on the management instance); empty until the functions exist."
  value = {
    for k, f in local.deployed_functions : k => "oci fn function invoke --function-id ${local.function_ids[k]} --file - --body '${local.example_body}'"
  }
}

output "crontab" {
  description = "The crontab installed for opc on the management instance, rendered from var.schedules (null until the functions exist)."
  value       = local.crontab
}

output "deploy" {
  description = "What scripts/deploy.sh reads (terraform output -json): where to push the images and which ones are deployed."
  value = {
    region         = var.region
    compartment_id = var.compartment_ocid
    # The OCI config profile the Fn context signs with (oracle.profile), as the provider does.
    oci_config_file_profile = var.oci_config_file_profile
    # The Functions API of the region (realm OC1, oraclecloud.com), for the Fn context's api-url.
    functions_api_url = "https://functions.${var.region}.oci.oraclecloud.com"
    ocir_host         = "${local.region_key}.ocir.io"
    namespace         = data.oci_objectstorage_namespace.this.namespace
    registry          = local.fn_registry
    application_name  = oci_functions_application.this.display_name
    # The images Terraform deploys now (null before the first push), by function name.
    images = { for f in values(local.functions) : f.name => f.image }
  }
}
