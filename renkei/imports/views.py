"""Import pages: list, upload, preview and mapping, confirm, job progress, error report.

Uploading and running need ``imports.add_importjob``; seeing jobs and their error
reports ``imports.view_importjob`` (the team shares its imports). Files are never served
from the import directory: the error report goes through ``import_errors``.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from renkei.accounts.forms import service_errors_to_form
from renkei.imports.forms import MappingForm, UploadForm
from renkei.imports.mapping import rules_from_columns
from renkei.imports.models import ImportJob, ImportStatus
from renkei.imports.reading import FileRefused, size_check
from renkei.imports.services import (
    error_report_path,
    import_job_configure,
    import_job_create,
    import_job_retry,
    import_job_sample,
    import_job_start,
    preset_mapping,
)

PAGE_SIZE = 50
# Multipart overhead allowed on top of the file itself before the body is refused unread.
MULTIPART_SLACK = 64 * 1024


@login_required
@permission_required("imports.view_importjob", raise_exception=True)
def import_list(request: HttpRequest) -> HttpResponse:
    jobs = ImportJob.objects.select_related("created_by", "campaign").order_by("-id")
    before = request.GET.get("before", "")
    if before.isdigit():
        jobs = jobs.filter(pk__lt=int(before))
    page = list(jobs[: PAGE_SIZE + 1])
    next_before = page[PAGE_SIZE - 1].pk if len(page) > PAGE_SIZE else None
    return render(
        request, "imports/import_list.html", {"jobs": page[:PAGE_SIZE], "next_before": next_before}
    )


@login_required
@permission_required("imports.add_importjob", raise_exception=True)
def import_upload(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return render(request, "imports/import_upload.html", {"form": UploadForm()})
    # Refuse an oversized body from its announced length, before Django reads it.
    announced = int(request.META.get("CONTENT_LENGTH") or 0)
    try:
        size_check(max(0, announced - MULTIPART_SLACK))
    except FileRefused as exc:
        form = UploadForm({})
        form.is_valid()  # bound and cleaned, so the error below replaces "required"
        form.errors["file"] = form.error_class([str(exc)])
        return render(request, "imports/import_upload.html", {"form": form}, status=413)
    form = UploadForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = import_job_create(
                chunks=upload.chunks(),
                filename=upload.name or "",
                size=upload.size,
                actor=request.user,
            )
        except FileRefused as exc:
            form.add_error("file", str(exc))
        else:
            if preset := form.cleaned_data["preset"]:
                job.mapping = preset_mapping(name=preset, header=job.header)
                job.preset_name = preset
                job.save(update_fields=["mapping", "preset_name"])
            return redirect("imports:preview", pk=job.pk)
    return render(request, "imports/import_upload.html", {"form": form}, status=400)


def _draft(pk: int) -> ImportJob:
    return get_object_or_404(ImportJob, pk=pk)


@login_required
@permission_required("imports.add_importjob", raise_exception=True)
def import_preview(request: HttpRequest, pk: int) -> HttpResponse:
    job = _draft(pk)
    if job.status != ImportStatus.DRAFT:
        return redirect("imports:detail", pk=job.pk)
    form = MappingForm(request.POST if request.method == "POST" else None, job=job)
    if form.is_valid():
        mapping = form.mapping()
        try:
            import_job_configure(
                job=job,
                actor=request.user,
                mapping=mapping,
                rules=rules_from_columns(mapping, form.column_rules()),
                campaign_id=form.cleaned_data["campaign"].pk
                if form.cleaned_data["campaign"]
                else None,
                exchange_date=form.cleaned_data["exchange_date"],
                preset_name=job.preset_name,
                save_preset_as=form.cleaned_data["save_preset_as"],
            )
        except ValidationError as exc:
            service_errors_to_form(form, exc)
        else:
            return redirect("imports:confirm", pk=job.pk)
    context = {
        "job": job,
        "form": form,
        "sample": import_job_sample(job),
        "delimiter": _("tab") if job.delimiter == "\t" else _("comma"),
    }
    return render(
        request, "imports/import_preview.html", context, status=400 if form.errors else 200
    )


@login_required
@permission_required("imports.add_importjob", raise_exception=True)
def import_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    job = _draft(pk)
    if job.status != ImportStatus.DRAFT:
        return redirect("imports:detail", pk=job.pk)
    if request.method == "POST":
        ran = import_job_start(job=job)
        if not ran:
            messages.info(request, _("The import was queued; this page shows its progress."))
        return redirect("imports:detail", pk=job.pk)
    mapped = [(h, t) for h, t in zip(job.header, job.mapping, strict=False) if t]
    return render(request, "imports/import_confirm.html", {"job": job, "mapped": mapped})


@login_required
@permission_required("imports.view_importjob", raise_exception=True)
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(ImportJob.objects.select_related("created_by", "campaign"), pk=pk)
    return render(request, "imports/import_detail.html", {"job": job})


@login_required
@permission_required("imports.add_importjob", raise_exception=True)
@require_POST
def import_retry(request: HttpRequest, pk: int) -> HttpResponse:
    """Run a failed import, or one whose worker died, again."""
    job = get_object_or_404(ImportJob, pk=pk)
    if import_job_retry(job=job, actor=request.user):
        messages.success(request, _("The import is queued again."))
    else:
        messages.error(request, _("This import cannot be run again: it is not failed or stalled."))
    return redirect("imports:detail", pk=job.pk)


@login_required
@permission_required("imports.view_importjob", raise_exception=True)
def import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress card alone, polled by the job page until the import finishes."""
    job = get_object_or_404(ImportJob, pk=pk)
    return render(request, "imports/_progress.html", {"job": job})


@login_required
@permission_required("imports.view_importjob", raise_exception=True)
def import_errors(request: HttpRequest, pk: int) -> FileResponse:
    job = get_object_or_404(ImportJob, pk=pk)
    path = error_report_path(job)
    if path is None or not path.is_file():
        raise Http404
    name = f"{job.original_filename.rsplit('.', 1)[0]}-errors.csv"
    response = FileResponse(path.open("rb"), as_attachment=True, filename=name)
    response["Content-Type"] = "text/csv; charset=utf-8"
    return response
