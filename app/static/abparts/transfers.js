// The stock transfer form: type-ahead lookups (Select2 with AJAX, bundled by
// Flask-AppBuilder) and lines added or removed in place.
(function ($) {
  "use strict";

  function lookup(select) {
    var $select = $(select);
    $select.select2({
      ajax: {
        url: $select.data("url"),
        dataType: "json",
        delay: 200,
        data: function (params) { return { q: params.term || "" }; }
      },
      placeholder: $select.data("placeholder") || "Type to search",
      minimumInputLength: 0,
      width: "100%"
    });
  }

  $(function () {
    $(".abparts-lookup").each(function () { lookup(this); });
    var $body = $("#transfer-lines tbody");
    var $template = $body.find("tr.transfer-line").first().clone();
    $template.find("select").empty().removeClass("select2-hidden-accessible").removeAttr("data-select2-id");
    $template.find(".select2").remove();
    $template.find("input").val("");

    $("#add-line").on("click", function () {
      var $row = $template.clone();
      $body.append($row);
      lookup($row.find("select")[0]);
    });
    $body.on("click", ".remove-line", function () {
      if ($body.find("tr.transfer-line").length > 1) {
        $(this).closest("tr").remove();
      }
    });
  });
})(jQuery);
