{#-
    The cohorts the planning, dashboard and commissioning marts count, as (name, dim_child
    flag). One list, so every mart means the same thing by "looked after".
-#}
{% macro cohorts() -%}
    {{ return([
        ('children in need', 'is_currently_cin'),
        ('child protection plan', 'is_currently_cp_plan'),
        ('looked after', 'is_currently_looked_after'),
        ('care leaver', 'is_care_leaver'),
        ('EHC plan', 'has_ehc_plan'),
        ('SEN support', 'has_sen_support'),
        ('free school meals', 'is_fsm_eligible'),
        ('known to CAMHS', 'is_known_to_camhs'),
    ]) }}
{%- endmacro %}

{#- One row per living child and cohort it belongs to, with the breakdown characteristics. -#}
{% macro cohort_memberships(children) -%}
    {%- for name, flag in cohorts() %}
    select
        person_key,
        '{{ name }}' as cohort,
        sex,
        coalesce(age_band, 'not known') as age_band,
        coalesce(ethnicity, 'not known') as ethnicity,
        coalesce(postcode_district, 'not known') as postcode_district
    from {{ children }}
    where {{ flag }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}
