{#-
    The id linkage knows a person record by: '<source>:<the source's own record id>'. Staging
    models expose it as `person_record_id`; the person-record union and every mart join to the
    linkage bridge (through int_person_keys) on it. This macro is the only place it is built.
-#}
{% macro person_record_id(source_name, local_id) -%}
    '{{ source_name }}:' || {{ local_id }}
{%- endmacro %}
