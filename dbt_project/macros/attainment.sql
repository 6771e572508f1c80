{#-
    The columns every attainment file (cadence assessment: EYFSP, phonics, Key Stage 2 and 4)
    shares, renamed once: the file has no record id of its own, so a pupil is their row in the
    year's file (`<local_id>` = <period>/<row number>, and its linkage id); the academic year;
    its period end, the day the year's results arrived (`_period_end`, set at load by the
    schema's results_due); and the pupil's identity. Use inside a select from `source`,
    left-joined to the DfE sex codes as `sex_codes`.
-#}
{% macro attainment_pupil_columns(source_name, local_id, forename_column='forename') -%}
    source._period || '/' || source._row_number as {{ local_id }},
    {{ person_record_id(source_name, "source._period || '/' || source._row_number") }}
        as person_record_id,
    source._period as academic_year,
    cast(source._period_end as date) as period_end,
    upper({{ clean_text('source.upn') }}) as upn,
    {{ clean_text('source.' ~ forename_column) }} as forename,
    {{ clean_text('source.surname') }} as surname,
    {{ parse_date('source.dob', '%d/%m/%Y') }} as date_of_birth,
    coalesce(sex_codes.sex, 'U') as sex
{%- endmacro %}

{% macro school_laestab() -%}
    {#- The school as an attainment file gives it: its DfE number (LAEstab), or its LA and
        establishment numbers in two columns. -#}
    coalesce(
        {{ clean_text('source.laestab') }},
        {{ clean_text('source.la') }} || {{ clean_text('source.estab') }}
    )
{%- endmacro %}
